from django import template

from probity.core.khmer import word_breaks

register = template.Library()


@register.filter(name="khmer_breaks")
def khmer_breaks(value) -> str:
    """Insert zero-width spaces between Khmer words so that long lines can wrap."""
    return word_breaks(str(value)) if value is not None else ""
