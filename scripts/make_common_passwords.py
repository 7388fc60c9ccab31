"""Write portal/data/common-passwords.txt: the passwords the portal refuses as too common.

The 10,000 most common passwords of Mark Burnett's 10-million-password list, in the order zxcvbn
(MIT licence) ships them, plus common Vietnamese ones. Run once when the list should change:

    python -m venv /tmp/zx && /tmp/zx/bin/pip install zxcvbn
    /tmp/zx/bin/python scripts/make_common_passwords.py
"""

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

TOP = 10_000
VIETNAMESE = """anhyeuem emyeuanh yeuem iloveyou matkhau matkhau123 matkhaumoi khongbiet khongcopass
vietnam vietnam123 hanoi saigon quangngai quangngai123 conmeo concho hoanganh thanhcong
123456789a 12345678a abc123456 a123456789 anhyeuem123 emyeuanh123 yeuanh yeuemnhieu
motmatkhau doimatkhau congdan doanhnghiep sokhcn khoahoccongnghe""".split()


def main() -> None:
    words = FREQUENCY_LISTS["passwords"][:TOP]
    seen, lines = set(), []
    for word in [*words, *VIETNAMESE]:
        if word not in seen:
            seen.add(word)
            lines.append(word)
    target = Path(__file__).resolve().parent.parent / "portal" / "data" / "common-passwords.txt"
    header = ("# Passwords refused as too common (scripts/make_common_passwords.py): the 10,000 most common of\n"
              "# Mark Burnett's list as zxcvbn (MIT) ships them, then common Vietnamese ones.\n"
              "# One per line, lower case.\n")
    target.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} passwords written to {target}")


if __name__ == "__main__":
    main()
