#!/usr/bin/python3
"""Training-step speed and memory of longctx's CPU engine next to PyTorch (Debian python3-torch),
same configuration, same thread count, measured in this one script.

  /usr/bin/python3 bench/model/bench_train.py --build build/release [--threads 2] [--quick]
  /usr/bin/python3 bench/model/bench_train.py --build build/release --memory   # 1K..32K

Both sides run the same step: embedding, N x (RMSNorm, GQA attention with RoPE, RMSNorm, SwiGLU),
final norm, untied head, mean cross-entropy, full backward, per-layer activation checkpointing
(PyTorch: torch.utils.checkpoint per layer; its attention is the eager T x T softmax, which is
what torch 1.13 offers). GFLOP/s counts model FLOPs (6 x matmul params x tokens + causal
attention), not recomputation. Each process is fresh so peak RSS is per configuration.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time


def torch_llama(cfg):
    """The benchmark's LLaMA in PyTorch (also used by bench/train/bench_train_step.py): returns
    (embedding, blocks, final norm, head, random ids, random targets, parameter list)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    C, L, H, V, T, B = cfg["hidden"], cfg["layers"], cfg["heads"], cfg["vocab"], cfg["seq"], cfg["batch"]
    I = (C * 8 // 3 + 63) // 64 * 64
    d = C // H
    eps = 1e-6

    class RMSNorm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(C))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * self.w

    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    ang = torch.arange(T).float()[:, None] * inv[None]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[None, None]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[None, None]
    causal = torch.full((T, T), float("-inf")).triu(1)

    def rope(x):
        x1, x2 = x[..., : d // 2], x[..., d // 2 :]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(), RMSNorm()
            self.qkv = torch.nn.Linear(C, 3 * C, bias=False)
            self.o = torch.nn.Linear(C, C, bias=False)
            self.gu = torch.nn.Linear(C, 2 * I, bias=False)
            self.down = torch.nn.Linear(I, C, bias=False)

        def forward(self, x):
            q, k, v = self.qkv(self.n1(x)).view(B, T, 3, H, d).permute(2, 0, 3, 1, 4)
            q, k = rope(q), rope(k)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d) + causal
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + self.o(y)
            g, u = self.gu(self.n2(x)).chunk(2, -1)
            return x + self.down(F.silu(g) * u)

    emb = torch.nn.Embedding(V, C)
    blocks = torch.nn.ModuleList([Block() for _ in range(L)])
    norm = RMSNorm()
    head = torch.nn.Linear(C, V, bias=False)
    params = list(emb.parameters()) + list(blocks.parameters()) + list(norm.parameters()) + list(head.parameters())
    ids = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))

    return emb, blocks, norm, head, ids, tgt, params


def torch_step(cfg):
    import torch
    import torch.nn.functional as F
    from torch.utils.checkpoint import checkpoint

    emb, blocks, norm, head, ids, tgt, params = torch_llama(cfg)
    C, L, V, T, B = cfg["hidden"], cfg["layers"], cfg["vocab"], cfg["seq"], cfg["batch"]
    I = (C * 8 // 3 + 63) // 64 * 64

    def step():
        for p in params:
            p.grad = None
        x = emb(ids)
        for blk in blocks:
            x = checkpoint(blk, x, use_reentrant=False) if cfg["checkpoint"] else blk(x)
        loss = F.cross_entropy(head(norm(x)).view(-1, V), tgt.view(-1))
        loss.backward()
        return loss.item()

    step()  # warm-up
    times = []
    for _ in range(cfg["steps"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    best = min(times)
    tokens = B * T
    matmul_params = L * (C * 3 * C + C * C + 3 * C * I) + V * C
    flops = 6 * matmul_params * tokens + 6.0 * L * C * T * tokens
    return {"impl": "pytorch " + torch.__version__, "step_s": mean, "best_step_s": best,
            "tokens_per_s": tokens / best, "gflops": flops / best / 1e9,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def run_longctx(build, cfg, warmup=1):
    exe = os.path.join(build, "bench", "model", "bench_train")
    args = [exe, "--warmup", warmup, "--hidden", cfg["hidden"], "--layers", cfg["layers"], "--heads", cfg["heads"],
            "--seq", cfg["seq"], "--vocab", cfg["vocab"], "--batch", cfg["batch"],
            "--steps", cfg["steps"], "--threads", cfg["threads"], "--checkpoint", cfg["checkpoint"]]
    out = subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_torch(cfg):
    env = dict(os.environ, OMP_NUM_THREADS=str(cfg["threads"]))
    out = subprocess.run([sys.executable, __file__, "--torch-worker", json.dumps(cfg)], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1K and 4K only")
    ap.add_argument("--memory", action="store_true", help="peak memory vs sequence length, 1K..32K")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternate longctx / torch runs this many times, keep each side's best step")
    ap.add_argument("--torch-worker")
    a = ap.parse_args()
    if a.torch_worker:
        print(json.dumps(torch_step(json.loads(a.torch_worker))))
        return
    base = {"vocab": 32000, "batch": 1, "threads": a.threads, "checkpoint": 1}
    if a.memory:
        print(f"peak memory vs sequence length (hidden 256, 2 layers, 4 heads, vocab 32000, checkpointing, "
              f"{a.threads} threads, one step)")
        print(f"{'seq':>6} {'longctx RSS MB':>15} {'activations MB':>15} {'MB per 1K tok':>14} {'step s':>8}")
        for T in [1024, 2048, 4096, 8192, 16384, 32768]:
            cfg = dict(base, hidden=256, layers=2, heads=4, seq=T, steps=1)
            r = run_longctx(a.build, cfg, warmup=0)
            print(f"{T:>6} {r['peak_rss_mb']:>15.1f} {r['activation_mb']:>15.1f} "
                  f"{r['activation_mb'] / (T / 1024):>14.1f} {r['step_s']:>8.2f}", flush=True)
        return
    configs = [(256, 4, 4, 1024), (512, 8, 8, 1024), (256, 4, 4, 4096), (512, 8, 8, 4096)]
    if not a.quick:
        configs += [(256, 4, 4, 16384)]
    print(f"training step, vocab 32000, batch 1, per-layer checkpointing, {a.threads} threads; both "
          f"implementations alternated {a.rounds}x in this script, best step of each")
    print(f"{'hidden':>6} {'layers':>6} {'seq':>6} | {'longctx tok/s':>13} {'GFLOP/s':>8} {'RSS MB':>8} | "
          f"{'torch tok/s':>11} {'GFLOP/s':>8} {'RSS MB':>8} | {'speedup':>7}")
    for C, L, H, T in configs:
        cfg = dict(base, hidden=C, layers=L, heads=H, seq=T, steps=1 if T > 4096 else 2)
        skip_torch = a.no_torch or 3 * H * T * T * 4 > 12e9  # eager T x T attention must fit
        r = t = None
        for _ in range(a.rounds if not skip_torch else 1):
            ri = run_longctx(a.build, cfg)
            r = ri if r is None or ri["tokens_per_s"] > r["tokens_per_s"] else r
            if not skip_torch:
                ti = run_torch(cfg)
                t = ti if t is None or ti["tokens_per_s"] > t["tokens_per_s"] else t
        line = (f"{C:>6} {L:>6} {T:>6} | {r['tokens_per_s']:>13.1f} {r['gflops']:>8.1f} "
                f"{r['peak_rss_mb']:>8.0f} | ")
        if skip_torch:
            line += f"{'skipped (T x T attention too large)':>30}"
        else:
            line += (f"{t['tokens_per_s']:>11.1f} {t['gflops']:>8.1f} {t['peak_rss_mb']:>8.0f} | "
                     f"{r['tokens_per_s'] / t['tokens_per_s']:>6.2f}x")
        print(line, flush=True)


if __name__ == "__main__":
    main()
