from django.http import HttpResponse


def log(request):  # replaced by the audit work
    return HttpResponse("log")
