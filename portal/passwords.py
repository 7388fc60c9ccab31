"""The password rule: long enough and not one an attacker tries first. Each refusal says why, in
Vietnamese. The common-password list ships with the project (portal/data/common-passwords.txt,
made by scripts/make_common_passwords.py)."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 10
COMMON_LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
# Runs a person types without thinking: digits, the alphabet, the keyboard's rows.
RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")
SHORT_UNIT = 4  # "abab…", "123123…", "xyzxyz…": a password made of a unit this short, repeated


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_run(lowered: str) -> bool:
    return any(lowered in run * 3 or lowered in run[::-1] * 3 for run in RUNS)


def _repeats_a_short_unit(lowered: str) -> bool:
    return any((lowered[:n] * (len(lowered) // n + 1))[:len(lowered)] == lowered for n in range(1, SHORT_UNIT + 1))


def _is_common(lowered: str) -> bool:
    """In the list as typed, or once the digits and signs people add at the end are taken off."""
    base = lowered.rstrip(string.digits + string.punctuation + " ")
    return lowered in _common() or (len(base) >= 4 and base in _common())


def problem(password: str, username: str = "") -> str | None:
    """Why `password` may not be used (for the account `username`), or None when it may."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự."
    lowered = password.lower()
    if len(set(lowered)) == 1:
        return "Mật khẩu không được chỉ gồm một ký tự lặp lại."
    if _is_run(lowered):
        return "Mật khẩu không được là một dãy ký tự liền nhau (như 1234567890, abcdefghij hay qwertyuiop)."
    if _repeats_a_short_unit(lowered):
        return "Mật khẩu không được là một cụm ký tự ngắn lặp lại (như 123123123123)."
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in lowered:
        return "Mật khẩu không được chứa tên đăng nhập."
    if _is_common(lowered):
        return "Mật khẩu này nằm trong danh sách mật khẩu phổ biến, dễ bị dò ra; hãy chọn mật khẩu khác."
    return None


HINT = (f"Ít nhất {MIN_LENGTH} ký tự; không phải mật khẩu phổ biến, dãy liền nhau hay ký tự lặp lại, "
        "không chứa tên đăng nhập.")
