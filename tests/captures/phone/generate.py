#!/usr/bin/env python3
"""Derive example_numbers.tsv from libphonenumber's PhoneNumberMetadata.xml.

Usage: generate.py PATH/TO/PhoneNumberMetadata.xml > example_numbers.tsv

For every territory (ISO region, or 001 for the non-geographic country codes) and
every number type that lists an exampleNumber, one row: the region, the type, the
national significant number, the national prefix a caller dials before it at home
(empty when the region has none, or when the region's national format of that
number does not use it: the first numberFormat whose last leadingDigits pattern
and whole pattern match, with its nationalPrefixFormattingRule or the territory's)
and the expected E.164 form (+, country code, national significant number). Only
these facts are taken from the file.
"""
import re
import sys
import xml.etree.ElementTree as ET


def pattern(text):
    # The metadata writes its regular expressions over several indented lines.
    return re.sub(r"\s+", "", text or "")


def national_prefix_used(territory, national):
    prefix = territory.get("nationalPrefix")
    if not prefix:
        return ""
    formats = territory.find("availableFormats")
    for fmt in [] if formats is None else formats.findall("numberFormat"):
        leading = fmt.findall("leadingDigits")
        if leading and not re.match(pattern(leading[-1].text), national):
            continue
        if not re.fullmatch(pattern(fmt.get("pattern")), national):
            continue
        rule = fmt.get("nationalPrefixFormattingRule") or territory.get(
            "nationalPrefixFormattingRule"
        ) or ""
        return prefix if "$NP" in rule else ""
    return ""

TYPES = [
    "fixedLine",
    "mobile",
    "tollFree",
    "premiumRate",
    "sharedCost",
    "personalNumber",
    "voip",
    "pager",
    "uan",
    "voicemail",
]


def main(path):
    root = ET.parse(path).getroot()
    print("# region\ttype\tnational_number\tnational_prefix\te164")
    for territory in root.iter("territory"):
        region = territory.get("id")
        code = territory.get("countryCode")
        for kind in TYPES:
            desc = territory.find(kind)
            if desc is None:
                continue
            example = desc.find("exampleNumber")
            if example is None or not (example.text or "").strip():
                continue
            national = example.text.strip()
            prefix = national_prefix_used(territory, national)
            print(f"{region}\t{kind}\t{national}\t{prefix}\t+{code}{national}")


if __name__ == "__main__":
    main(sys.argv[1])
