import unicodedata

from probity.core.khmer import ZWSP, has_khmer, normalise, word_breaks


def test_normalise_gives_nfc_and_folds_space():
    decomposed = unicodedata.normalize("NFD", "Café  de\u200b Paris")
    assert normalise(decomposed) == "Café de Paris"


def test_normalise_khmer_is_stable():
    name = "សុខ  តារា"
    assert normalise(name) == "សុខ តារា"
    assert normalise(normalise(name)) == normalise(name)


def test_has_khmer():
    assert has_khmer("ស្នងការដ្ឋាន")
    assert not has_khmer("Phnom Penh")
    assert not has_khmer("")


def test_word_breaks_inserts_zero_width_spaces_between_khmer_words():
    text = "ស្នងការដ្ឋាននគរបាលខេត្តសៀមរាប"
    broken = word_breaks(text)
    assert ZWSP in broken
    assert broken.replace(ZWSP, "") == text
    # Every piece between breaks is non-empty Khmer.
    assert all(piece and has_khmer(piece) for piece in broken.split(ZWSP))


def test_word_breaks_leaves_latin_text_alone():
    assert word_breaks("National Police") == "National Police"


def test_word_breaks_is_idempotent():
    text = "អគ្គស្នងការដ្ឋាននគរបាលជាតិ"
    assert word_breaks(word_breaks(text)) == word_breaks(text)
