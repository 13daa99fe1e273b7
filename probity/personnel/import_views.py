from django.http import HttpResponse


def import_start(request):  # replaced by the import work
    return HttpResponse("import")
