#!/usr/bin/python3
"""Before/after figures of the model engine for two builds, measured in this one script run:
training-step tokens/s (bench_train) and generation tokens/s (bench_generate), the two builds
alternated round by round on the same configurations, best of each (the machine is shared).

  git worktree add /tmp/before main && cmake -S /tmp/before -B /tmp/before/build/release \\
      -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/before/build/release --target bench_train
  OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 bench/model/compare_builds.py \\
      --before /tmp/before/build/release --after build/release [--rounds 2] [--torch]

A build without bench_generate (older than the benchmark) is skipped for generation. With
--torch, bench_train.py (the PyTorch comparison) then runs once per build.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import run_longctx  # noqa: E402


def run_generate(build, cfg):
    exe = os.path.join(build, "bench", "model", "bench_generate")
    if not os.path.exists(exe):
        return None
    args = [exe] + [str(x) for k, v in cfg.items() for x in ("--" + k, v)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def best(old, new, key):
    return new if old is None or new[key] > old[key] else old


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="build directory of the old code")
    ap.add_argument("--after", required=True, help="build directory of the new code")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--torch", action="store_true", help="also run bench_train.py for each build")
    a = ap.parse_args()
    builds = {"before": a.before, "after": a.after}

    base = {"vocab": 32000, "batch": 1, "threads": a.threads, "checkpoint": 1, "steps": 2}
    print(f"training step, vocab 32000, batch 1, checkpointing, {a.threads} threads, "
          f"best of {a.rounds} alternated rounds")
    print(f"{'hidden':>6} {'layers':>6} {'seq':>6} | {'before tok/s':>12} {'after tok/s':>12} {'after/before':>12}")
    for C, L, H, T in [(256, 4, 4, 1024), (512, 8, 8, 1024), (256, 4, 4, 4096), (512, 8, 8, 4096)]:
        cfg = dict(base, hidden=C, layers=L, heads=H, seq=T)
        res = {k: None for k in builds}
        for _ in range(a.rounds):
            for k, b in builds.items():
                res[k] = best(res[k], run_longctx(b, cfg), "tokens_per_s")
        o, n = res["before"]["tokens_per_s"], res["after"]["tokens_per_s"]
        print(f"{C:>6} {L:>6} {T:>6} | {o:>12.1f} {n:>12.1f} {n / o:>11.3f}x", flush=True)

    print(f"\ngeneration (greedy, KV cache), vocab 32000, {a.threads} threads, best of "
          f"{a.rounds} alternated rounds x 3 runs")
    print(f"{'hidden':>6} {'layers':>6} {'prompt':>6} {'new':>4} | {'prefill before':>14} {'after':>8} | "
          f"{'decode before':>13} {'after':>8} | {'decode after/before':>19}")
    for C, L, H, P, G in [(512, 8, 8, 512, 64), (256, 4, 4, 2048, 64)]:
        cfg = {"hidden": C, "layers": L, "heads": H, "prompt": P, "new": G, "threads": a.threads}
        res = {k: None for k in builds}
        for _ in range(a.rounds):
            for k, b in builds.items():
                r = run_generate(b, cfg)
                if r is not None:
                    res[k] = best(res[k], r, "decode_tokens_per_s")
        if res["before"] is None or res["after"] is None:
            print(f"{C:>6} {L:>6} {P:>6} {G:>4} | a build has no bench_generate")
            continue
        o, n = res["before"], res["after"]
        print(f"{C:>6} {L:>6} {P:>6} {G:>4} | {o['prefill_tokens_per_s']:>14.1f} {n['prefill_tokens_per_s']:>8.1f} | "
              f"{o['decode_tokens_per_s']:>13.2f} {n['decode_tokens_per_s']:>8.2f} | "
              f"{n['decode_tokens_per_s'] / o['decode_tokens_per_s']:>18.3f}x", flush=True)

    if a.torch:
        here = os.path.dirname(os.path.abspath(__file__))
        for k, b in builds.items():
            print(f"\nbench_train.py --build {b} ({k})", flush=True)
            subprocess.run([sys.executable, os.path.join(here, "bench_train.py"), "--build", b,
                            "--threads", str(a.threads), "--quick", "--rounds", "1"], check=True)


if __name__ == "__main__":
    main()
