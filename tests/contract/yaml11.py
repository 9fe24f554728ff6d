"""openapi.yaml read as YAML 1.1 readers read it (PyYAML here; SnakeYAML inside swagger-parser and
openapi-generator resolves the same way) is the JSON the server serves at /api/v1/openapi.json.

A YAML 1.1 reader turns an unquoted `18:30` into the integer 1110, `2022-10-15` into a date and `yes` into
true; the generator quotes every such scalar (api/src/yaml.rs), and this proves it with a reader nobody
here wrote, both PyYAML's pure-Python SafeLoader and its libyaml CSafeLoader when present.
Usage: yaml11.py SPEC BASE_URL
"""
import json
import sys
import urllib.request

import yaml


def diff(path, read, served, out):
    if isinstance(read, dict) and isinstance(served, dict):
        for k in served:
            if k not in read:
                out.append(f"{path}/{k}: missing")
            else:
                diff(f"{path}/{k}", read[k], served[k], out)
        out.extend(f"{path}/{k!r}: not in the JSON" for k in read if k not in served)
    elif isinstance(read, list) and isinstance(served, list) and len(read) == len(served):
        for i, (r, s) in enumerate(zip(read, served)):
            diff(f"{path}/{i}", r, s, out)
    elif type(read) is not type(served) and not (isinstance(read, (int, float)) and isinstance(served, (int, float))
                                                 and not isinstance(read, bool) and not isinstance(served, bool)):
        out.append(f"{path}: YAML 1.1 reads {read!r} ({type(read).__name__}), the JSON has {served!r}")
    elif read != served:
        out.append(f"{path}: YAML 1.1 reads {read!r}, the JSON has {served!r}")


def main():
    spec_path, base = sys.argv[1], sys.argv[2].rstrip("/")
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=30) as r:
        served = json.load(r)
    text = open(spec_path, encoding="utf-8").read()
    loaders = [("SafeLoader", yaml.SafeLoader)]
    if getattr(yaml, "CSafeLoader", None):
        loaders.append(("CSafeLoader (libyaml)", yaml.CSafeLoader))
    passed = failed = 0
    for name, loader in loaders:
        out = []
        diff("", yaml.load(text, Loader=loader), served, out)
        if out:
            failed += 1
            print(f"yaml: PyYAML {yaml.__version__} {name}: {len(out)} differences from /api/v1/openapi.json, e.g.:")
            for line in out[:20]:
                print(f"  {line}")
        else:
            passed += 1
            print(f"yaml: PyYAML {yaml.__version__} {name} reads {spec_path} as the served JSON")
    print(f"yaml: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
