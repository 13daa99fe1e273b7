from django.http import HttpResponse


def tree(request):  # replaced by the organisation work
    return HttpResponse("tree")


def laboratories(request):  # replaced by the organisation work
    return HttpResponse("laboratories")
