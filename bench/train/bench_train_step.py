#!/usr/bin/python3
"""Whole training steps of `longctx train` (forward, backward, gradient clipping, AdamW, data
loading, metrics) next to PyTorch (Debian's python3-torch: the same model, torch.optim.AdamW,
per-layer torch.utils.checkpoint), and `mpirun -np 2` against one process on the same cores. Not a
test: figures for docs/training.md, each beside its baseline from the same script.

  /usr/bin/python3 bench/train/bench_train_step.py --build build/release [--threads 2] [--seqs 1024,4096]
  /usr/bin/python3 bench/train/bench_train_step.py --build build/release --mpi

Data: a Megatron dataset of random tokens written here (vocab 32000), cut by --seq-len; one
sequence per step (--batch-tokens = T), 3 steps; the best step's tokens/s (the machine is shared).
Peak memory: each process's maximum resident set (GNU time %M for longctx, ru_maxrss for PyTorch).
"""
import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time

CONFIGS = {"A": dict(hidden=256, layers=2, heads=4), "B": dict(hidden=512, layers=4, heads=8)}
VOCAB = 32000


def inter(C):
    return (C * 8 // 3 + 63) // 64 * 64  # LLaMA's 8/3 ratio, as bench/model


def write_megatron(prefix, tokens, seed=1):
    import random
    rnd = random.Random(seed)
    ids = [rnd.randrange(VOCAB) for _ in range(tokens)]
    with open(prefix + ".bin", "wb") as f:
        f.write(struct.pack(f"<{tokens}H", *ids))
    # one sequence holding every token (formats.md "Megatron-LM / NeMo indexed dataset")
    with open(prefix + ".idx", "wb") as f:
        f.write(b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + bytes([8]) + struct.pack("<QQ", 1, 2))
        f.write(struct.pack("<i", tokens) + struct.pack("<q", 0) + struct.pack("<qq", 0, 1))


def write_config(path, cfg, T):
    C, L, H = cfg["hidden"], cfg["layers"], cfg["heads"]
    j = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB, "hidden_size": C,
         "intermediate_size": inter(C), "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": H,
         "rms_norm_eps": 1e-6, "max_position_embeddings": T, "rope_theta": 10000.0, "tie_word_embeddings": False}
    with open(path, "w") as f:
        json.dump(j, f)


def run_longctx(build, tmp, cfg, T, threads, steps, np=1):
    exe = os.path.join(build, "src", "cli", "longctx")
    conf = os.path.join(tmp, f"config-{T}.json")
    write_config(conf, cfg, T)
    out = os.path.join(tmp, "run")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [exe, "-q", "train", "--init", conf, "--data", os.path.join(tmp, "data"), "--seq-len", str(T),
           "--batch-tokens", str(T * np), "--steps", str(steps), "--threads", str(threads), "--out", out,
           "--keep-last", "1", "--lr", "1e-4"]
    if np > 1:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", str(np)] + cmd
    # peak resident set of this one process (GNU time's %M, in KB)
    rss_file = os.path.join(tmp, "rss")
    if np == 1:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    rss = int(open(rss_file).read().split()[-1]) / 1024.0 if np == 1 else 0.0
    steps_ = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if '"loss"' in l]
    best = max(s["tokens_per_s"] for s in steps_[1:] or steps_)
    util = max(s["utilisation"] for s in steps_[1:] or steps_)
    return {"tokens_per_s": best, "utilisation": util, "peak_rss_mb": rss}


def torch_worker(cfg):
    """PyTorch's whole step on the same model as bench/model/bench_train.py (shared builder)."""
    import torch
    import torch.nn.functional as F
    from torch.utils.checkpoint import checkpoint

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
    from bench_train import torch_llama

    T, V = cfg["seq"], VOCAB
    emb, blocks, norm, head, ids, tgt, params = torch_llama(dict(cfg, vocab=V, batch=1))
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def step():
        opt.zero_grad(set_to_none=True)
        x = emb(ids)
        for blk in blocks:
            x = checkpoint(blk, x, use_reentrant=False)
        loss = F.cross_entropy(head(norm(x)).view(-1, V), tgt.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    best = 1e30
    for i in range(cfg["steps"]):
        t0 = time.perf_counter()
        step()
        if i > 0 or cfg["steps"] == 1:
            best = min(best, time.perf_counter() - t0)
    return {"tokens_per_s": T / best, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def run_torch(cfg):
    env = dict(os.environ, OMP_NUM_THREADS=str(cfg["threads"]))
    out = subprocess.run([sys.executable, __file__, "--torch-worker", json.dumps(cfg)], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seqs", default="1024,4096,16384,32768")
    ap.add_argument("--configs", default="A,B")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--torch-max-gb", type=float, default=8.0, help="skip PyTorch when its T x T attention exceeds this")
    ap.add_argument("--mpi", action="store_true", help="mpirun -np 2 (1 thread each) vs 1 process with 2 threads")
    ap.add_argument("--torch-worker")
    a = ap.parse_args()
    if a.torch_worker:
        print(json.dumps(torch_worker(json.loads(a.torch_worker))))
        return
    seqs = [int(s) for s in a.seqs.split(",")]
    tmp = tempfile.mkdtemp(prefix="bench-train-")
    write_megatron(os.path.join(tmp, "data"), max(seqs) * (a.steps + 1) * 2)
    if a.mpi:
        print(f"data parallel: 2 sequences per step, config A, {a.steps} steps, best step")
        print(f"{'seq':>6} | {'1 process x 2 threads tok/s':>28} | {'mpirun -np 2 x 1 thread tok/s':>30} | {'ratio':>6}")
        for T in seqs:
            one = run_longctx(a.build, tmp, CONFIGS["A"], T, 2, a.steps, np=1)
            # the same 2 sequences per step: one process accumulates 2 micro-batches
            one2 = run_longctx_two(a.build, tmp, CONFIGS["A"], T, a.steps)
            two = run_longctx(a.build, tmp, CONFIGS["A"], T, 1, a.steps, np=2)
            print(f"{T:>6} | {one2['tokens_per_s']:>28.1f} | {two['tokens_per_s']:>30.1f} | "
                  f"{two['tokens_per_s'] / one2['tokens_per_s']:>5.2f}x", flush=True)
            del one
        return
    print(f"whole training step (forward, backward, clip, AdamW), vocab {VOCAB}, one sequence per step, "
          f"per-layer checkpointing, {a.threads} threads, best of {a.steps} steps")
    print(f"{'cfg':>3} {'seq':>6} | {'longctx tok/s':>13} {'util':>5} {'RSS MB':>8} | {'torch tok/s':>11} {'RSS MB':>8} | {'speedup':>7}")
    for name in a.configs.split(","):
        cfg = CONFIGS[name]
        for T in seqs:
            r = run_longctx(a.build, tmp, cfg, T, a.threads, a.steps)
            line = f"{name:>3} {T:>6} | {r['tokens_per_s']:>13.1f} {100 * r['utilisation']:>4.0f}% {r['peak_rss_mb']:>8.0f} | "
            if 3 * cfg["heads"] * T * T * 4 > a.torch_max_gb * 1e9:
                line += "skipped: PyTorch 1.13's eager T x T attention would need " \
                        f"{3 * cfg['heads'] * T * T * 4 / 1e9:.0f} GB"
            else:
                t = run_torch(dict(cfg, seq=T, threads=a.threads, steps=a.steps))
                line += f"{t['tokens_per_s']:>11.1f} {t['peak_rss_mb']:>8.0f} | {r['tokens_per_s'] / t['tokens_per_s']:>6.2f}x"
            print(line, flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


def run_longctx_two(build, tmp, cfg, T, steps):
    """One process, 2 threads, 2 micro-batches per step (what -np 2 computes)."""
    exe = os.path.join(build, "src", "cli", "longctx")
    conf = os.path.join(tmp, f"config-{T}.json")
    write_config(conf, cfg, T)
    out = os.path.join(tmp, "run2")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([exe, "-q", "train", "--init", conf, "--data", os.path.join(tmp, "data"), "--seq-len", str(T),
                    "--batch-tokens", str(2 * T), "--steps", str(steps), "--threads", "2", "--out", out,
                    "--keep-last", "1"], check=True, capture_output=True, text=True)
    steps_ = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if '"loss"' in l]
    return {"tokens_per_s": max(s["tokens_per_s"] for s in steps_[1:] or steps_)}


if __name__ == "__main__":
    main()
