#!/usr/bin/env python3
"""Generates a large, realistic mbox for the ingest benchmark (issue 7).

Seeded and deterministic: the same arguments give the same file.
20,000 people (by default) across ~100 customer domains plus our own
domain; each message has the headers real clients write (Received,
Return-Path, From, To, Cc, Date, Message-ID, In-Reply-To on replies,
Subject, MIME headers, X- headers), RFC 2047 encoded names for some
people, and a tiny body. Some bodies have mboxrd-quoted ">From " lines.

    python3 tests/bench/gen_mbox.py --messages 1000000 --out /tmp/bench.mbox
"""

import argparse
import base64
import random
import sys
from datetime import datetime, timedelta, timezone

FIRST = ["Anna", "Bruno", "Chiara", "Dieter", "Elif", "Farid", "Greta", "Hiro", "Ines",
         "Jürgen", "Karin", "Luis", "Mei", "Nils", "Olga", "Pierre", "Quinn", "Rosa",
         "Sven", "Tariq", "Ute", "Vera", "Wei", "Xavier", "Yara", "Zoë", "François",
         "Søren", "Łukasz", "Ömer"]
LAST = ["Berg", "Costa", "Dal", "Eck", "Fischer", "García", "Hansen", "Ito", "Jansen",
        "Kowalski", "Lévy", "Müller", "Nakamura", "Olsen", "Petrov", "Quist", "Rossi",
        "Schmidt", "Tanaka", "Ulrich", "Vogel", "Wang", "Yilmaz", "Zhang", "Novák"]
WORDS = ["offer", "renewal", "QBR", "pricing", "contract", "pilot", "roadmap",
         "follow-up", "meeting", "invoice", "proposal", "workshop", "demo", "support"]


def ascii_local(s):
    table = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "ç": "c",
                           "ø": "o", "ł": "l", "Ł": "l", "Ö": "oe", "ë": "e",
                           "í": "i", "á": "a"})
    return s.translate(table).lower()


def encoded(name):
    if name.isascii():
        return name
    if sum(name.encode()) % 2:
        return "=?UTF-8?B?" + base64.b64encode(name.encode()).decode() + "?="
    q = "".join(c if c.isalnum() and c.isascii() else
                ("_" if c == " " else "".join(f"={b:02X}" for b in c.encode()))
                for c in name)
    return "=?UTF-8?Q?" + q + "?="


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument("--domains", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    ours = "renmai-seller.example"
    domains = [f"customer{i:03d}.example" for i in range(a.domains)]
    people = []
    for i in range(a.people):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        dom = ours if i < a.people // 20 else rnd.choice(domains)
        addr = f"{ascii_local(first)}.{ascii_local(last)}{i}@{dom}"
        people.append((f"{first} {last}", addr))
    sellers = people[: a.people // 20]

    out = sys.stdout.buffer if a.out == "-" else open(a.out, "wb", buffering=1 << 22)
    t = datetime(2020, 1, 1, tzinfo=timezone.utc)
    recent = []
    for n in range(a.messages):
        t += timedelta(seconds=rnd.randint(1, 180))
        # Most mail is between a seller and customers.
        if rnd.random() < 0.5:
            sender, to = rnd.choice(sellers), [rnd.choice(people) for _ in range(rnd.randint(1, 3))]
        else:
            sender, to = rnd.choice(people), [rnd.choice(sellers)]
        cc = [rnd.choice(people) for _ in range(rnd.choice([0, 0, 1, 2]))]
        mid = f"<{n:08x}.{rnd.getrandbits(48):012x}@{sender[1].split('@')[1]}>"
        reply = recent and rnd.random() < 0.4
        subject = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 5)))
        date = t.astimezone(timezone(timedelta(hours=rnd.choice([-5, 0, 1, 2, 8]))))
        fmt = lambda p: f'"{encoded(p[0])}" <{p[1]}>' if rnd.random() < 0.9 else p[1]
        h = [
            f"From {sender[1]} {t.strftime('%a %b %d %H:%M:%S %Y')}",
            f"Return-Path: <{sender[1]}>",
            f"Received: from mail.{sender[1].split('@')[1]} (mail.{sender[1].split('@')[1]} [10.{n % 250}.{n % 199}.{n % 97}])",
            f"\tby mx.{ours} with ESMTPS id {rnd.getrandbits(64):016x}",
            f"\tfor <{to[0][1]}>; {date.strftime('%a, %d %b %Y %H:%M:%S %z')}",
            f"From: {fmt(sender)}",
            "To: " + ",\r\n ".join(fmt(p) for p in to).replace("\r", ""),
        ]
        if cc:
            h.append("Cc: " + ", ".join(fmt(p) for p in cc))
        h += [
            f"Subject: {'Re: ' if reply else ''}{subject}",
            f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S %z')}",
            f"Message-ID: {mid}",
        ]
        if reply:
            h.append(f"In-Reply-To: {rnd.choice(recent)}")
        h += [
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8; format=flowed",
            "Content-Transfer-Encoding: 8bit",
            "X-Mailer: renmai-bench 1.0",
            f"X-Spam-Score: {rnd.random() * 3:.1f}",
        ]
        body = [f"Hello {to[0][0].split()[0]},", "", f"about the {subject}: see you soon."]
        if rnd.random() < 0.02:
            body.append(">From the notes: quoted by mboxrd.")
        body += ["", sender[0].split()[0], ""]
        out.write(("\n".join(h) + "\n\n" + "\n".join(body) + "\n").encode())
        recent.append(mid)
        if len(recent) > 50:
            recent.pop(0)
    out.flush()


if __name__ == "__main__":
    main()
