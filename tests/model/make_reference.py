#!/usr/bin/python3
"""Independent PyTorch implementation of the LLaMA architecture (llm.c's way of testing).

Writes, for each case, tests/data/model/<case>/:
  config.json        HF LlamaForCausalLM config
  model.safetensors  float32 weights, HF names (written here with struct + json, independently of
                     the C++ writer)
  ref.safetensors    inputs, targets (I32), doc_start (I32, when masked), logits, loss and
                     grad.<HF name> for every parameter (F32), computed in float64.
The C++ test (reference_test.cc) loads the folder and compares with stated tolerances.
Run with Debian's python3-torch:  /usr/bin/python3 tests/model/make_reference.py
"""
import json
import math
import os
import struct
import sys

import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "model")


def write_safetensors(path, tensors):
    """tensors: list of (name, torch tensor of float32 or int32)."""
    header, off, blobs = {}, 0, []
    for name, t in tensors:
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def inv_freq_and_scale(cfg, seq_len):
    """RoPE frequencies, written from the published formulas (default, linear, yarn)."""
    d = cfg["head_dim"]
    theta = cfg["rope_theta"]
    i = torch.arange(0, d, 2, dtype=torch.float64)
    base_freq = theta ** (-i / d)
    rs = cfg.get("rope_scaling")
    if rs is None:
        return base_freq, 1.0
    if rs["rope_type"] == "linear":
        return base_freq / rs["factor"], 1.0
    if rs["rope_type"] == "yarn":
        s, L0 = rs["factor"], rs["original_max_position_embeddings"]
        # dimension index whose wavelength turns r times over L0
        dim_of = lambda r: d * math.log(L0 / (r * 2 * math.pi)) / (2 * math.log(theta))
        lo = max(math.floor(dim_of(rs.get("beta_fast", 32))), 0)
        hi = min(math.ceil(dim_of(rs.get("beta_slow", 1))), d - 1)
        ramp = ((torch.arange(d // 2, dtype=torch.float64) - lo) / (hi - lo)).clamp(0, 1)
        freq = base_freq * (1 - ramp) + base_freq / s * ramp
        return freq, 0.1 * math.log(s) + 1.0
    raise ValueError(rs)


def rotate(x, cos, sin):
    """x (B,T,H,d) in HF rotate-half layout; cos/sin (T, d/2)."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def forward(cfg, W, ids, doc_start):
    B, T = ids.shape
    C, Hq, Hkv, d = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    # angles as HF computes them: float32 position * float32 inverse frequency
    freq, mscale = inv_freq_and_scale(cfg, T)
    ang = (torch.arange(T, dtype=torch.float32)[:, None] * freq.float()[None, :]).double()
    cos, sin = torch.cos(ang) * mscale, torch.sin(ang) * mscale

    def norm(x, w):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w

    pos = torch.arange(T)
    mask = pos[None, :] <= pos[:, None]  # (T,T) query row, key col
    mask = mask[None].expand(B, T, T).clone()
    if doc_start is not None:
        mask &= pos[None, None, :] >= doc_start[:, :, None]
    x = W["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = norm(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, Hq, d)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, Hkv, d)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, Hkv, d)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        g = Hq // Hkv
        k = k.repeat_interleave(g, dim=2)
        v = v.repeat_interleave(g, dim=2)
        att = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(d)
        att = att.masked_fill(~mask[:, None], float("-inf")).softmax(-1)
        y = torch.einsum("bhij,bjhd->bihd", att, v).reshape(B, T, Hq * d)
        x = x + y @ W[p + "self_attn.o_proj.weight"].T
        h = norm(x, W[p + "post_attention_layernorm.weight"])
        gate = h @ W[p + "mlp.gate_proj.weight"].T
        up = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T
    x = norm(x, W["model.norm.weight"])
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def make_case(name, cfg, B, T, doc_lengths, seed):
    g = torch.Generator().manual_seed(seed)
    C, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    Q, KV = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    shapes = [("model.embed_tokens.weight", (V, C))]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        shapes += [(p + "input_layernorm.weight", (C,)), (p + "self_attn.q_proj.weight", (Q, C)),
                   (p + "self_attn.k_proj.weight", (KV, C)), (p + "self_attn.v_proj.weight", (KV, C)),
                   (p + "self_attn.o_proj.weight", (C, Q)), (p + "post_attention_layernorm.weight", (C,)),
                   (p + "mlp.gate_proj.weight", (I, C)), (p + "mlp.up_proj.weight", (I, C)),
                   (p + "mlp.down_proj.weight", (C, I))]
    shapes.append(("model.norm.weight", (C,)))
    if not cfg["tie_word_embeddings"]:
        shapes.append(("lm_head.weight", (V, C)))
    W = {}
    for n, s in shapes:
        t = 1.0 + 0.1 * torch.randn(s, generator=g) if len(s) == 1 else 0.2 * torch.randn(s, generator=g)
        W[n] = t.float().double().requires_grad_(True)  # values exactly representable in float32
    ids = torch.randint(0, V, (B, T), generator=g)
    targets = torch.randint(0, V, (B, T), generator=g)
    targets[0, 2] = -1  # position without loss
    doc_start = None
    if doc_lengths:
        ds = []
        for lens in doc_lengths:
            starts, p0 = [], 0
            for n in lens:
                starts += [p0] * n
                p0 += n
            ds.append(starts)
        doc_start = torch.tensor(ds)
    logits = forward(cfg, W, ids, doc_start)
    valid = targets >= 0
    loss = torch.nn.functional.cross_entropy(logits[valid], targets[valid])
    loss.backward()
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), [(n, W[n].detach().float()) for n, _ in shapes])
    ref = [("inputs", ids.int()), ("targets", targets.int())]
    if doc_start is not None:
        ref.append(("doc_start", doc_start.int()))
    ref += [("logits", logits.detach().float()), ("loss", loss.detach().float().reshape(1))]
    ref += [("grad." + n, W[n].grad.float()) for n, _ in shapes]
    write_safetensors(os.path.join(d, "ref.safetensors"), ref)
    print(f"{name}: loss {loss.item():.6f}, {len(shapes)} tensors -> {d}")


BASE = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 61,
        "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 8, "rms_norm_eps": 1e-5, "max_position_embeddings": 64,
        "rope_theta": 10000.0, "rope_scaling": None, "tie_word_embeddings": False, "bos_token_id": 1,
        "eos_token_id": 2, "torch_dtype": "float32"}

if __name__ == "__main__":
    make_case("ref_gqa_untied", dict(BASE), B=2, T=70, doc_lengths=None, seed=1)
    yarn = dict(BASE, tie_word_embeddings=True, rope_theta=500.0, max_position_embeddings=256,
                rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64})
    make_case("ref_yarn_tied_docmask", yarn, B=2, T=70, doc_lengths=[[5, 40, 25], [70]], seed=2)
    lin = dict(BASE, num_key_value_heads=1, rope_scaling={"rope_type": "linear", "factor": 2.0})
    make_case("ref_mqa_linear", lin, B=1, T=33, doc_lengths=None, seed=3)
