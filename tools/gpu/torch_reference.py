#!/usr/bin/env python3
"""PyTorch on the same card and weights as `cartridges bench gpu`: prefill tok/s and greedy decode tok/s per batch size,
with Hugging Face transformers (bf16, static cache), printed in the same units so the two can be divided."""
import argparse
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batches", default="1,8,32,128")
    ap.add_argument("--prefill-tokens", type=int, default=1024)
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    args = ap.parse_args()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=dtype).cuda().eval()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(3)

    with torch.inference_mode():
        ids = torch.randint(vocab, (1, args.prefill_tokens), generator=gen).cuda()
        best = float("inf")
        for i in range(3):
            torch.cuda.synchronize()
            t = time.perf_counter()
            model(ids, use_cache=True)
            torch.cuda.synchronize()
            if i > 0:
                best = min(best, time.perf_counter() - t)
        line = f"torch:{args.dtype} prefill {args.prefill_tokens} tokens {args.prefill_tokens / best:.0f} tok/s"
        for b in [int(x) for x in args.batches.split(",")]:
            prompt = torch.randint(vocab, (b, 32), generator=gen).cuda()
            kwargs = dict(max_new_tokens=args.decode_tokens, min_new_tokens=args.decode_tokens, do_sample=False, cache_implementation="static")
            model.generate(prompt, **kwargs)  # warm-up (static cache allocation, kernels)
            torch.cuda.synchronize()
            t = time.perf_counter()
            model.generate(prompt, **kwargs)
            torch.cuda.synchronize()
            seconds = time.perf_counter() - t
            line += f"; decode batch {b} {b * args.decode_tokens / seconds:.0f} tok/s"
        print(line)


if __name__ == "__main__":
    main()
