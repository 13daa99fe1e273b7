"""The testing API (API.md): collections and custody. Filled in by the API work."""

from ninja import Router

router = Router(tags=["testing"])
