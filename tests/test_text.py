"""Vietnamese text keys: what officials type must meet what the unit lists say."""

from __future__ import annotations

import unicodedata

import pytest

from geoservice.text import ascii_fold, name_key, nfc, search_key, strip_unit_type


@pytest.mark.parametrize("typed", ["Xã Lũng Cú", "lung cu", "LŨNG CÚ", "Lũng Cú", "LUNG CU",
                                   "  xã   lũng  cú ", "Lũng-Cú"])
def test_lung_cu_spellings_share_one_name_key(typed):
    assert name_key(typed) == "lungcu"


@pytest.mark.parametrize("typed", ["Xã Lũng Cú", "lung cu", "LŨNG CÚ", "xã lũng cú", "LUNG  CU"])
def test_lung_cu_spellings_share_one_search_key(typed):
    assert search_key(typed) == "lung cu"


def test_search_key_keeps_word_boundaries():
    assert search_key("Xã Hùng Cường") == "hung cuong"
    assert "lung cu" not in search_key("Xã Hùng Cường")
    assert search_key("Nà-Hỳ") == "na hy"
    assert search_key("Phường Hà Giang 1") == "ha giang 1"


def test_old_and_new_tone_placement_meet():
    old_style, new_style = "Hoà", "Hòa"  # grave on the a / grave on the o
    assert nfc(old_style) != nfc(new_style), "the two spellings are different strings"
    assert name_key(old_style) == name_key(new_style) == "hoa"
    assert search_key("Xã Thuận Hoà") == search_key("Xã Thuận Hòa") == "thuan hoa"


def test_leading_zeros_are_ignored_in_name_keys():
    assert name_key("Phường 01") == name_key("Phường 1") == "1"
    assert name_key("Phường 010") == name_key("Phường 10") == "10"
    assert name_key("Phường 01") != name_key("Phường 10")
    assert name_key("Phường Móng Cái 01") == name_key("Móng Cái 1")


def test_ascii_fold_strips_diacritics_and_d_bar():
    assert ascii_fold("Đắk Lắk") == "Dak Lak"
    assert ascii_fold("Lũng Cú") == "Lung Cu"
    assert ascii_fold("đường Điện Biên Phủ") == "duong Dien Bien Phu"
    assert ascii_fold("Hòa Bình") == "Hoa Binh"
    # Decomposed input folds the same.
    assert ascii_fold(unicodedata.normalize("NFD", "Đắk Lắk")) == "Dak Lak"
    assert ascii_fold("Sín Thầu").isascii()


@pytest.mark.parametrize(("name", "key"), [
    ("Thành phố Hà Nội", "hanoi"),          # the longest prefix wins over "thanh"
    ("Thành phố Hồ Chí Minh", "hochiminh"),
    ("TP. Hồ Chí Minh", "hochiminh"),
    ("TP.Hồ Chí Minh", "hochiminh"),
    ("Tỉnh Điện Biên", "dienbien"),
    ("Thị trấn Đồng Văn", "dongvan"),
    ("Đặc khu Phú Quốc", "phuquoc"),
    ("Huyện Xã Hội", "xahoi"),              # only one prefix is removed
])
def test_unit_type_prefix_is_removed(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize(("name", "name_k", "search_k"), [
    ("Phường", "phuong", "phuong"),
    ("Xã", "xa", "xa"),
    ("Thành phố", "thanhpho", "thanh pho"),
])
def test_prefix_is_kept_when_it_is_the_whole_name(name, name_k, search_k):
    assert name_key(name) == name_k
    assert search_key(name) == search_k
    assert strip_unit_type("phuong") == "phuong"


def test_nfd_input_is_normalised_to_nfc():
    composed = "Lũng Cú"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed and len(decomposed) > len(composed)
    result = nfc(decomposed)
    assert result == composed
    assert unicodedata.is_normalized("NFC", result)
    assert nfc("  Xã \t Lũng\n Cú  ") == "Xã Lũng Cú"
    assert name_key(decomposed) == name_key(composed)
    assert search_key(decomposed) == search_key(composed)


def test_empty_names_give_empty_keys():
    assert name_key(None) == "" and name_key("") == ""
    assert search_key(None) == "" and search_key("") == ""
    assert search_key("!!! ---") == ""
