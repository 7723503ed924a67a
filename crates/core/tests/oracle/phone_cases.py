"""Test cases for phone-number normalisation, with libphonenumber (Python `phonenumbers`) as
the oracle. Prints JSON lines {"input": ..., "expected": "+31..." or null}. Deterministic."""
import json
import random
import sys

import phonenumbers
from phonenumbers import PhoneNumberFormat as F

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 2026)
cases = []


def expect(text):
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        return None
    if number.extension or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, F.E164)


def add(text):
    cases.append({"input": text, "expected": expect(text)})


TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER,
    phonenumbers.PhoneNumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL,
]

# Example numbers of every type in every region, in the ways people write them.
for region in sorted(phonenumbers.SUPPORTED_REGIONS):
    for kind in TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, F.E164)
        add(e164)
        add(phonenumbers.format_number(example, F.INTERNATIONAL))
        add("00" + e164[1:])
        # Neighbours of the example: often valid, sometimes not.
        for _ in range(3):
            digits = list(e164[1:])
            i = rng.randrange(len(str(example.country_code)), len(digits))
            digits[i] = str(rng.randrange(10))
            add("+" + "".join(digits))
        add(e164[:-1])
        add(e164 + str(rng.randrange(10)))

# Dutch numbers as people write them.
for _ in range(3000):
    prefix = rng.choice(["06", "010", "020", "030", "040", "050", "070", "085", "088", "0800", "0900", "0909", "066", "067", "069", "097"])
    rest = "".join(str(rng.randrange(10)) for _ in range(10 - len(prefix) + rng.choice([0, 0, 0, -1, 1, -3])))
    national = prefix + rest
    style = rng.randrange(6)
    if style == 0:
        text = national
    elif style == 1:
        text = national[:2] + "-" + national[2:]
    elif style == 2:
        text = "+31 " + national[1:]
    elif style == 3:
        text = "+31 (0)" + national[1:]
    elif style == 4:
        text = "0031 " + national[1:]
    else:
        text = "31" + national[1:]
    add(text)

# Vanity numbers (keypad letters), as helpdesks and scammers advertise them, and words that
# are too short to be one or that end in an extension.
WORDS = ["FRAUDE", "HELPDESK", "BANK", "TAXI", "POLITIE", "HULP", "GELD", "VEILIG", "INFO", "AB", "abc", "Fraude"]
for _ in range(400):
    prefix = rng.choice(["0800-", "0900-", "0800 ", "+31 800 ", "+31 900 ", "088-", "06-", "+44 800 ", "+1 800 ", "0031 800 "])
    word = rng.choice(WORDS)
    digits = "".join(str(rng.randrange(10)) for _ in range(rng.choice([0, 0, 1, 2, 3])))
    tail = rng.choice(["", "", "", " ext 12", " x 7"])
    add(prefix + digits + word + tail)
    add(prefix + word + digits)

# Random international digit strings.
for _ in range(3000):
    add("+" + "".join(str(rng.randrange(10)) for _ in range(rng.randrange(6, 15))))

for case in cases:
    print(json.dumps(case))
