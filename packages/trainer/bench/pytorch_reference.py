"""PyTorch reference for bench/gpu-throughput.mjs: the same Pythia shapes, eager fp32, on CUDA when
available (else CPU), with HF transformers' GPTNeoXForCausalLM and torch.optim.AdamW. Not run in CI.

    python3 bench/pytorch_reference.py --only=pythia-70m --batch=8 --seq=2048 --runs=5

Prints one progress line per model on stderr and the rows as JSON on the last line of stdout.
"""
import argparse
import json
import statistics
import sys
import time

import torch
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

# Pythia's shapes (pythia-configs.md): hidden size, layers, heads.
SHAPES = {
    "pythia-14m": (128, 6, 4),
    "pythia-70m": (512, 6, 8),
    "pythia-160m": (768, 12, 12),
    "pythia-410m": (1024, 24, 16),
    "pythia-1b": (2048, 16, 8),
    "pythia-1.4b": (2048, 24, 16),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="pythia-14m,pythia-70m,pythia-160m,pythia-410m")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as the JS side computes
    torch.backends.cudnn.allow_tf32 = False
    rows = []
    for name in args.only.split(","):
        hidden, layers, heads = SHAPES[name]
        config = GPTNeoXConfig(
            vocab_size=50304, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=4 * hidden, rotary_pct=0.25, max_position_embeddings=2048,
            use_parallel_residual=True, tie_word_embeddings=False, attn_implementation="eager",
        )
        torch.manual_seed(1234)
        model = GPTNeoXForCausalLM(config).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
        ids = torch.randint(0, 50304, (args.batch, args.seq), device=device)

        def sync() -> None:
            if device == "cuda":
                torch.cuda.synchronize()

        def forward() -> None:
            with torch.no_grad():
                model(ids).logits[0, 0, 0].item()

        def train() -> None:
            loss = model(ids, labels=ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss.item()

        def timed(fn) -> float:
            fn()
            sync()
            seconds = []
            for _ in range(args.runs):
                start = time.perf_counter()
                fn()
                sync()
                seconds.append(time.perf_counter() - start)
            return statistics.median(seconds)

        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        tokens = args.batch * args.seq
        row = {
            "model": name,
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            "forwardTokensPerSecond": tokens / timed(forward),
            "trainTokensPerSecond": tokens / timed(train),
            "peakGpuBytes": torch.cuda.max_memory_allocated() if device == "cuda" else None,
        }
        print(json.dumps(row), file=sys.stderr)
        rows.append(row)
        del model, optimizer
        if device == "cuda":
            torch.cuda.empty_cache()
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
