from django.http import HttpResponse


def people(request):  # replaced by the personnel pages work
    return HttpResponse("people")
