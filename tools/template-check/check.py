#!/usr/bin/env python3
"""Checks the project's chat templates against a model's own Jinja template, id for id.

For every case in cases.json this renders the conversation with the `chat_template` of the model's
tokenizer_config.json — in a sandboxed Jinja environment set up the way Hugging Face transformers sets it up
(trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now, a Unicode-keeping tojson) — and
encodes the result with special-token matching on (what `apply_chat_template(tokenize=True)` does). It then
asks the project's CLI for the same conversation (`cartridges model tokenize --messages`) and compares the ids.

usage: check.py MODEL_DIR llama|qwen3 [--cases FILE] [--cli "COMMAND"]
MODEL_DIR needs config.json, tokenizer.json and tokenizer_config.json (no weights). Exit status 1 on any difference.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
# The project's Llama template writes the official fallback date; the reference is given the same date.
LLAMA_DATE = "26 Jul 2024"


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


def chat_template(model_dir):
    with open(os.path.join(model_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    template = config["chat_template"]
    if isinstance(template, list):  # named templates: "default" is the chat one
        template = next(t["template"] for t in template if t["name"] == "default")

    def token(value):
        return (value.get("content") if isinstance(value, dict) else value) or ""

    return environment().from_string(template), token(config.get("bos_token")), token(config.get("eos_token"))


def variants(cases, family):
    for case in cases:
        if family not in case.get("families", [family]):
            continue
        prompt = not case.get("no_generation_prompt", False)
        # Qwen3 is checked with thinking off (the project's default) and on; Llama has no such switch.
        for thinking in ([False, True] if family == "qwen3" and prompt else [False]):
            yield case["name"] + (" (thinking)" if thinking else ""), case["messages"], prompt, thinking


def ids(cli, *args):
    out = subprocess.run(cli + list(args), check=True, capture_output=True, text=True, encoding="utf-8")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("family", choices=["llama", "qwen3"])
    parser.add_argument("--cases", default=os.path.join(HERE, "cases.json"))
    parser.add_argument("--cli", default="dotnet run --project src/Cartridges.Cli -c Release --no-build --")
    a = parser.parse_args()
    cli = shlex.split(a.cli)
    template, bos, eos = chat_template(a.model_dir)
    with open(a.cases, encoding="utf-8") as f:
        cases = json.load(f)
    failed = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, messages, prompt, thinking in variants(cases, a.family):
            total += 1
            values = {"messages": messages, "add_generation_prompt": prompt, "bos_token": bos, "eos_token": eos}
            if a.family == "llama":
                values["date_string"] = LLAMA_DATE
            else:
                values["enable_thinking"] = thinking
            text = template.render(**values)
            reference = ids(cli, "model", "tokenize", "--model", a.model_dir, "--text", text, "--special-tokens")
            path = os.path.join(tmp, "messages.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(messages, f, ensure_ascii=False)
            flags = ([] if prompt else ["--no-generation-prompt"]) + (["--thinking"] if thinking else [])
            ours = ids(cli, "model", "tokenize", "--model", a.model_dir, "--messages", path, *flags)
            if ours == reference:
                print(f"same  {name}: {len(ours)} ids")
                continue
            failed += 1
            at = next((i for i, (x, y) in enumerate(zip(ours, reference)) if x != y), min(len(ours), len(reference)))
            print(f"DIFF  {name}: ours {len(ours)} ids, template {len(reference)}; first difference at {at}: "
                  f"ours {ours[at:at + 8]} template {reference[at:at + 8]}")
            print("      template text: " + json.dumps(text, ensure_ascii=False))
    print(f"{total - failed} of {total} conversations render to the same ids as {a.model_dir}'s chat_template")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
