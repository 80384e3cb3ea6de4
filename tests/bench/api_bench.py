#!/usr/bin/env python3
"""Request bodies for the enrichment benchmark (README, Benchmarks).

Reads a relbench CSV folder (people.csv, organizations.csv; its people have
no e-mails, so records match by name + company), keeps customer people whose
name is unique at their company, and writes into OUT:
  single.lua  a wrk script cycling through one-record enrich bodies
  batch.json  one 1,000-record enrich body
Usage: python3 tests/bench/api_bench.py /tmp/relbench/medium OUT [AS_OF]
"""
import csv, json, os, random, sys
from collections import Counter

src, out = sys.argv[1], sys.argv[2]
as_of = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(out, exist_ok=True)
orgs = {r["org_id"]: r for r in csv.DictReader(open(os.path.join(src, "organizations.csv")))}
people = [r for r in csv.DictReader(open(os.path.join(src, "people.csv")))
          if orgs[r["org_id"]]["is_ours"] != "1"]
count = Counter((p["name"], p["org_id"]) for p in people)
unique = [p for p in people if count[(p["name"], p["org_id"])] == 1]
rng = random.Random(7)
rng.shuffle(unique)

def record(p, i):
    return {"ref": str(i), "name": p["name"], "company": orgs[p["org_id"]]["name"]}

def body(records):
    b = {"records": records}
    if as_of:
        b["as_of"] = as_of
    return json.dumps(b)

singles = [body([record(p, i)]) for i, p in enumerate(unique[:2000])]
with open(os.path.join(out, "single.lua"), "w") as f:
    f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
    f.write("local bodies = {\n")
    for s in singles:
        f.write("  [[%s]],\n" % s)
    f.write("}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n"
            "  return wrk.format(nil, nil, nil, bodies[i])\nend\n")
with open(os.path.join(out, "batch.json"), "w") as f:
    f.write(body([record(p, i) for i, p in enumerate(unique[:1000])]))
print(f"{len(unique)} uniquely named stakeholders; wrote {out}/single.lua and {out}/batch.json")
