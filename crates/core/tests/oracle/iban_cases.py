"""Test cases for IBAN normalisation, with `schwifty` as the oracle. Prints JSON lines
{"input": ..., "expected": electronic form or null}. Deterministic for a seed."""
import json
import random
import re
import sys

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 2026)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def expect(text):
    try:
        # Vangnet checks the IBAN registry's format and mod 97, not national check digits.
        return IBAN(text, validate_bban=False).compact
    except SchwiftyException:
        return None


def mod97(value):
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def specs():
    """Every country with an IBAN format in schwifty's registry."""
    from schwifty.registry import get_iban_spec

    for a in ALNUM[:26]:
        for b in ALNUM[:26]:
            try:
                spec = get_iban_spec(a + b)
            except Exception:
                continue
            # Countries that use IBAN-like numbers but are not in the SWIFT registry.
            if not spec.aspirational:
                yield a + b, spec


def random_bban(spec):
    """A BBAN following a registry spec such as `4!a10!n`."""
    out = []
    for count, kind in re.findall(r"(\d+)!?([nace])", spec):
        alphabet = {"n": "0123456789", "a": ALNUM[:26], "c": ALNUM, "e": " "}[kind]
        out.extend(rng.choice(alphabet) for _ in range(int(count)))
    return "".join(out)


def with_check_digits(country, bban):
    check = 98 - mod97(country + "00" + bban)
    return f"{country}{check:02d}{bban}"


# schwifty allows letters in Brazil's bank and branch fields; the SWIFT registry does not.
REGISTRY_FORMATS = {"BR": "8!n5!n10!n1!a1!c"}

cases = []
for country, spec in specs():
    for _ in range(20):
        compact = with_check_digits(country, random_bban(REGISTRY_FORMATS.get(country, spec.bban_spec)))
        if expect(compact) != compact:
            continue
        formatted = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
        cases.append({"input": formatted, "expected": compact})
        cases.append({"input": compact.lower(), "expected": compact})
        # One character changed: mod 97 catches every single substitution.
        chars = list(compact)
        i = rng.randrange(4, len(chars))
        old = chars[i]
        chars[i] = rng.choice([c for c in (ALNUM if old.isalpha() else "0123456789") if c != old])
        changed = "".join(chars)
        cases.append({"input": changed, "expected": None if mod97(changed) != 1 else expect(changed)})
        # One character too many, with check digits recomputed: the length is wrong.
        longer = compact + rng.choice("0123456789")
        check = 98 - mod97(longer[:2] + "00" + longer[4:])
        longer = f"{longer[:2]}{check:02d}{longer[4:]}"
        cases.append({"input": longer, "expected": expect(longer)})

for case in cases:
    print(json.dumps(case))
