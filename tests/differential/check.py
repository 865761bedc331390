#!/usr/bin/env python3
"""Differential check of stencil's YAML writer against PyYAML, ruamel.yaml and kubectl.

Each string of a corpus of hostile strings is put into a copy of the example repository, in
tenant mars-university's frontend, as a pod annotation value, as a ConfigMap data value, and
as a ConfigMap data key and annotation key (an extra object). `stencil render` and
`stencil render --output json` run for each case; the YAML stream is read by PyYAML
(`safe_load_all`, YAML 1.1), ruamel.yaml (`YAML(typ='safe', pure=True)`, YAML 1.2) and
kubectl (`kubectl annotate --local -f FILE -o json`, sigs.k8s.io/yaml: go-yaml, YAML 1.1),
and every reading must equal the JSON render. Prints the first differing case and the number
of failing cases; exits 1 if any case fails.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml
from ruamel.yaml import YAML

TENANT = "mars-university"
SERVICE = "frontend"
VALUES = f"tenants/{TENANT}/{SERVICE}/values.yaml"
PROBE = "stencil.dev/probe"


def corpus():
    """A few hundred strings, one per case: every class of character and form that a YAML
    reader may take for something else than the string."""
    out = []
    breaks = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029"]
    controls = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
    specials = ["\ufeff", "\ufffe", "\uffff", "\ufffd", "\u00a0", "\U0010ffff", "\U0001f600", "é"]
    indicators = list("-?:,[]{}#&*!|>'\"%@`~=<") + [" ", "\t", "\\"]
    for c in breaks + specials + indicators:
        out += [c, "a" + c, c + "a", "a" + c + "b", "x\n" + c + "y\n", c + "\nx"]
    for c in controls:
        out += ["a" + c + "b: c", "x\n" + c + "y\n"]
    # Number-like forms, in many cases, with signs and `_`.
    for sign in ["", "-", "+"]:
        for prefix in ["0x", "0X", "0o", "0O", "0b", "0B"]:
            for digits in ["1F", "17", "101", "_1F", "1_0", "", "G"]:
                out.append(sign + prefix + digits)
        for form in ["0", "017", "08", "09", "0_", "1_000", "_1", "1e3", "1E3", "1e+3", "1E-3",
                     "1.", "1.5", ".5", "._5", "._e+5", "1_e5", "1:20", "1:20.5", "190:20:30.15",
                     "1:2:3", ".inf", ".Inf", ".INF", ".nan", ".NaN", "inf", "nan", "1__", "0.0"]:
            out.append(sign + form)
    out += ["2026-11-23", "2026-1-2", "2026-11-23T10:00:00Z", "2026-11-23t10:00:00.5+01:00",
            "2026-11-23 10:00:00", "2026-11-23  10:00:00 -5", "20261123"]
    for word in ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "", "<<", "="]:
        out += [word, word.upper(), word.capitalize()]
    out += ["---", "...", "--- x", "... x", "a\n---\nb", "a\n...\nb", "- x", "? x", ": x",
            "a: b", "a #b", "a:", " lead", "trail ", "a\n ", "\n", "\n\n", "a\n\n", "a\n\n\n",
            " ", "a\tb", "a \nb", "a\n\tb", "\ta", "a\n  b\n", "|", ">", "|-\n x", "'q'", '"d"',
            "k" * 1500, "k" * 1500 + "\u2028x", "x" * 5000 + "\n" + "y" * 100]
    # The examples: a line separator moves an object or injects another one.
    out += [
        "x\ny\u2028metadata:\u2028  namespace: kube-system",
        "a\u2028---\u2028apiVersion: rbac.authorization.k8s.io/v1\u2028kind: ClusterRoleBinding"
        "\u2028metadata: {name: pwn}",
        "x\x85namespace: kube-system",
        "x\u2029kind: Secret",
    ]
    seen, cases = set(), []
    for s in out:
        # Templates are rendered by stencil, not written as they are.
        if s in seen or "{{" in s or "{%" in s or "{#" in s:
            continue
        seen.add(s)
        cases.append(s)
    return cases


def quoted(s):
    """A YAML double-quoted scalar for any string, printable ASCII only."""
    out = ['"']
    for c in s:
        n = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= n < 0x7F:
            out.append(c)
        elif n <= 0xFFFF:
            out.append("\\u%04x" % n)
        else:
            out.append("\\U%08x" % n)
    out.append('"')
    return "".join(out)


def values_file(base, s):
    """The tenant's values.yaml with the case in four places (keys as explicit keys: YAML
    limits implicit ones to 1024 characters)."""
    q = quoted(s)
    return (
        base
        + f"\npodAnnotations:\n  diff.example.com/case: {q}\n"
        + "extraObjects:\n"
        + "  - apiVersion: v1\n    kind: ConfigMap\n"
        + f"    metadata:\n      name: diff-values\n      annotations:\n        diff.example.com/case: {q}\n"
        + f"    data:\n      value: {q}\n      ? {q}\n      : key\n"
        + "  - apiVersion: v1\n    kind: ConfigMap\n"
        + f"    metadata:\n      name: diff-keys\n      annotations:\n        ? {q}\n        : key\n"
    )


def same(a, b):
    """Deep equality where a string, a number and a bool never equal one another."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def first_difference(expected, got, path="$"):
    if same(expected, got):
        return None
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in sorted(set(expected) | set(got), key=repr):
            if k not in got:
                return f"{path}[{k!r}] missing"
            if k not in expected:
                return f"{path}[{k!r}] added: {got[k]!r}"
            d = first_difference(expected[k], got[k], f"{path}[{k!r}]")
            if d:
                return d
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for i, (x, y) in enumerate(zip(expected, got)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
    return f"{path}: expected {expected!r}, read {got!r}"


def compare(expected, docs):
    if len(docs) != len(expected):
        return f"{len(docs)} documents instead of {len(expected)}"
    return first_difference(expected, docs)


def run_case(args, base_repo, base_values, i, s):
    """Renders case i; returns (i, s, yaml_text, json_docs, failures) or a refusal."""
    with tempfile.TemporaryDirectory(prefix=f"stencil-diff-{i}-") as repo:
        for name in ["stencil.yaml", ".sops.yaml"]:
            if os.path.exists(os.path.join(base_repo, name)):
                shutil.copy(os.path.join(base_repo, name), repo)
        shutil.copytree(os.path.join(base_repo, "base"), os.path.join(repo, "base"))
        shutil.copytree(os.path.join(base_repo, "tenants", TENANT), os.path.join(repo, "tenants", TENANT))
        with open(os.path.join(repo, VALUES), "w", encoding="utf-8") as f:
            f.write(values_file(base_values, s))
        cmd = [args.stencil, "--repo", repo, "render", "--tenant", TENANT, "--service", SERVICE]
        env = dict(os.environ, STENCIL_LOG="error")
        y = subprocess.run(cmd, capture_output=True, env=env)
        j = subprocess.run(cmd + ["--output", "json"], capture_output=True, env=env)
    if y.returncode != 0 or j.returncode != 0:
        if y.returncode != j.returncode:
            return i, s, None, None, [f"render exits {y.returncode}, render --output json exits {j.returncode}"]
        return i, s, None, None, None  # refused by stencil: nothing written
    text = y.stdout.decode("utf-8")
    expected = json.loads(j.stdout)["items"]
    failures = []
    readers = [
        ("PyYAML", lambda t: list(yaml.safe_load_all(t))),
        ("ruamel.yaml", lambda t: list(YAML(typ="safe", pure=True).load_all(t))),
    ]
    for name, read in readers:
        try:
            d = compare(expected, read(text))
        except Exception as e:  # noqa: BLE001 - any reader error is a finding
            d = f"cannot read: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        if d:
            failures.append(f"{name}: {d}")
    return i, s, text, expected, failures


def kubectl_readings(args, texts, workdir):
    """Reads every case's YAML with one kubectl call: case i is the file case-NNNNN.yaml,
    followed by a marker object. Returns {i: docs or an error message}."""
    for i, text in texts.items():
        marker = f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stencil-diff-marker-{i}\n"
        with open(os.path.join(workdir, f"case-{i:05d}.yaml"), "w", encoding="utf-8") as f:
            f.write(text + marker)
    p = subprocess.run(
        [args.kubectl, "annotate", "--local", "-f", workdir, "-o", "json", f"{PROBE}=1"],
        capture_output=True,
    )
    out = p.stdout.decode("utf-8")
    readings = {i: f"kubectl: {line}" for line in p.stderr.decode("utf-8", "replace").splitlines()
                for i in texts if f"case-{i:05d}.yaml" in line}
    decoder, pos, docs = json.JSONDecoder(), 0, []
    while True:
        while pos < len(out) and out[pos].isspace():
            pos += 1
        if pos >= len(out):
            break
        obj, pos = decoder.raw_decode(out, pos)
        docs.append(obj)
    current = []
    for obj in docs:
        name = obj.get("metadata", {}).get("name", "")
        if isinstance(name, str) and name.startswith("stencil-diff-marker-"):
            i = int(name.rsplit("-", 1)[1])
            readings.setdefault(i, current)
            current = []
            continue
        annotations = obj.get("metadata", {}).get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(PROBE, None)
        current.append(obj)
    return readings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stencil", required=True)
    parser.add_argument("--kubectl", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with open(os.path.join(args.repo, VALUES), encoding="utf-8") as f:
        base_values = f.read()
    cases = corpus()
    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_case, args, args.repo, base_values, i, s) for i, s in enumerate(cases)]
        for fut in futures:
            results.append(fut.result())
    texts = {i: text for i, _, text, _, _ in results if text is not None}
    with tempfile.TemporaryDirectory(prefix="stencil-diff-kubectl-") as workdir:
        kube = kubectl_readings(args, texts, workdir)
    failing, refused = [], []
    for i, s, text, expected, failures in results:
        if failures is None:
            refused.append(s)
            continue
        failures = list(failures)
        if text is not None:
            reading = kube.get(i, "kubectl: no output for this case")
            if isinstance(reading, str):
                failures.append(reading)
            else:
                # kubectl adds metadata.annotations to objects that had none.
                for obj, exp in zip(reading, expected):
                    meta = obj.get("metadata", {})
                    if meta.get("annotations") == {} and "annotations" not in exp.get("metadata", {}):
                        del meta["annotations"]
                d = compare(expected, reading)
                if d:
                    failures.append(f"kubectl: {d}")
        if failures:
            failing.append((i, s, failures))
    checked = len(cases) - len(refused)
    print(f"differential: {len(cases)} cases, {checked} rendered, {len(refused)} refused by stencil, "
          f"{len(failing)} read differently by PyYAML, ruamel.yaml or kubectl")
    by_reader = {}
    for _, _, failures in failing:
        for name in {f.split(":", 1)[0] for f in failures}:
            by_reader[name] = by_reader.get(name, 0) + 1
    for name, count in sorted(by_reader.items()):
        print(f"  {name}: {count} cases")
    if refused:
        print("  refused (not a writer failure): " + ", ".join(repr(s)[:40] for s in refused[:10]))
    if checked < len(cases) * 9 // 10:
        print("differential: too few cases rendered; is the example repository broken?", file=sys.stderr)
        return 1
    if failing:
        i, s, failures = failing[0]
        print(f"first failing case #{i}: {s!r}"[:400], file=sys.stderr)
        for f in failures:
            print(f"  {f}"[:600], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
