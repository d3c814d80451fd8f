#!/usr/bin/python3
"""A PyTorch peer of `mla-lab bench`: one decode step of one layer's attention block, on the CPU.

It times, in PyTorch, the same six cases `mla-lab bench` times for a model config (an HF-style
config.json, default assets/presets/deepseek-v2-lite.json), so a note can put the two side by
side on the same machine. It is a peer for the README / issue note only: never part of the
build or the tests, and nothing in the project imports or runs it.

Usage: /usr/bin/python3 tools/bench_torch.py [--config FILE] [--context 1024,4096,16384]
           [--threads 2] [--dtype fp32|bf16] [--bf16-compute native|cast] [--repeat 20]
           [--warmup 3] [--kinds mha,gqa,mqa,cached-kv,recompute,absorbed] [--kv-heads G]
           [--proj mv|linear] [--seed 0] [--json]

Run it with Debian's /usr/bin/python3 (torch from python3-torch, BLAS from libopenblas0-pthread);
it needs only torch, numpy and the standard library.

The rows follow app/cli/model.cpp (bench_cases, run_bench) and core/model/cost.cpp
(attention_cost) exactly:
- T = --context tokens are in the cache (random values); the step computes token T, writes its
  row at T and attends over T + 1 rows. The cache holds exactly T + 1 rows, so every row is read.
- The input x (hidden_size) is taken as already normalised: no input RMSNorm, no MLP, no
  embedding or lm_head (ours runs the same attention_only_step).
- mha / gqa / mqa: hidden size and query heads of the config, head dim = v_head_dim for an MLA
  config (head_dim, or hidden_size / heads, otherwise); KV heads H, G and 1, where G (--kv-heads)
  defaults to max(2, H / 4), lowered until it divides H (4 for V2-Lite's 16 heads). Weights
  W_Q, W_K, W_V, W_O; RoPE on q and k; cache K and V, (G, T + 1, head dim) each, the layout HF
  uses. A query head i reads KV head i / (H / G): grouped matmuls, no repeat_kv copy.
- mla cached-kv / recompute / absorbed: kv_lora_rank C, qk_rope_head_dim Dr, qk_nope_head_dim
  Dn, v_head_dim Dv, q_lora_rank Cq (null = no query compression), num_attention_heads H,
  hidden_size D. For a non-MLA config the MLA rows use C = 4 Dh, Dr = Dh / 2, Dn = Dv = Dh, as
  ours. Every path reads the same weights: q_proj (or q_a_proj, q_a_layernorm, q_b_proj),
  kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj (W_UK and W_UV), o_proj.
  - cached-kv: decompresses the new token with kv_b_proj and caches per head K = [k_nope ; k_rope]
    (H, T + 1, Dn + Dr) and V (H, T + 1, Dv): H (Dn + Dr + Dv) elements a token.
  - recompute: caches c_kv (T + 1, C) and k_rope (T + 1, Dr); every step up-projects the whole
    latent cache to K_nope and V, (T + 1, H (Dn + Dv)) = c_kv kv_b^T, then attends.
  - absorbed: DeepSeek-V3's absorb einsums (inference/model.py, attn_impl "absorb"):
    q_absorbed = einsum("hd,hdc->hc", q_nope, W_UK); scores = einsum("hc,tc->ht", q_absorbed,
    c_kv) + einsum("hr,tr->ht", q_rope, k_rope); o_latent = einsum("ht,tc->hc", p, c_kv);
    att_out = einsum("hc,hdc->hd", o_latent, W_UV); then o_proj. W_UK and W_UV are slices of
    kv_b_proj viewed (H, Dn + Dv, C), as in V3's reference. The cache is c_kv and k_rope as in V3
    (kv_cache, pe_cache): C + Dr elements a token, the same bytes as ours' one [c_kv ; k_rope] row.
- bytes read per step = every weight tensor of the block (always float32, 4 bytes, as ours) +
  the T + 1 cache rows in their stored dtype (fp32 4 bytes, bf16 2). It is summed from the
  tensors the step actually reads (numel * element_size), not from a formula; at fp32 and bf16 it
  equals ours' bytes_read_per_step (weight_bytes_per_step + cache_bytes_read_per_step) row by row.
  It does not count temporaries (scores, recompute's rebuilt K and V, a bf16 -> fp32 copy).
  GB/s = bytes read / median time.
- RoPE uses the config's layout (DeepSeek: interleaved pairs; others: rotate half) at
  position T; softmax scale 1 / sqrt(Dn + Dr) for MLA (no YaRN mscale: ours clears rope_scaling
  for the bench), 1 / sqrt(Dh) otherwise.
- Projections (W x for one token) use torch.mv, the matrix-vector product ours uses too
  (--proj mv). --proj linear uses F.linear on a (1, D) input, what nn.Linear does for one token;
  PyTorch sends that to a GEMM with one row, which OpenBLAS runs several times slower here.
- --dtype bf16 stores the caches in torch.bfloat16 (the new row is rounded in by copy_).
  --bf16-compute native (the default): every product that reads the cache runs as a bf16
  matmul (the other operand cast to bf16 at the call; recompute casts kv_b_proj's weight to
  bf16 every step for its up-projection), the softmax runs in fp32 on the scores, and the
  attention output is cast back to fp32 for W_UV / o_proj; weights and projections stay fp32.
  --bf16-compute cast: each step widens the cache to fp32 (.float(), a copy) and computes all
  in fp32, which is what ours does (a narrow cache is widened as it is read, compute float32).
  Ours has no bf16 matmul; the printed header says which one ran.
- --threads sets torch.set_num_threads (OpenMP: PyTorch's own kernels and oneDNN's bf16
  matmuls) and, when the BLAS that torch loaded is OpenBLAS, openblas_set_num_threads through
  ctypes (torch.set_num_threads does not reach a generic BLAS).
- The script sets OMP_WAIT_POLICY=PASSIVE before torch loads (unless the caller set it): GNU
  OpenMP's threads otherwise spin after each PyTorch kernel and starve OpenBLAS's pthreads,
  which made steps 2-4x slower on a 2-core machine.
- Timing: --warmup untimed steps, then --repeat timed ones (time.perf_counter around each
  step) under torch.inference_mode(); median, p10, p90, min and max in ms. Ours rotates no
  copies (`--rotate 1`) and times at least 0.3 s; compare medians.

Example (the note's run): /usr/bin/python3 tools/bench_torch.py --context 1024,4096 --repeat 20
next to: build/bin/mla-lab bench --config assets/presets/deepseek-v2-lite.json --context 1024,4096 --threads 2
"""
import argparse
import ctypes
import json
import math
import os
import platform
import sys
import time

# GNU OpenMP's threads spin after each parallel region by default and then hold the cores that
# OpenBLAS's own threads need for the next matrix-vector product: measured 2-4x slower steps on
# 2 cores. Passive waiting, unless the caller set OMP_WAIT_POLICY; libgomp reads it when torch loads.
OMP_WAIT_POLICY_GIVEN = "OMP_WAIT_POLICY" in os.environ
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# Sections: config (the shapes), operations (RMSNorm, RoPE, the projection and cache-dtype
# rules), blocks (mha/gqa/mqa and the three MLA paths), machine (BLAS, threads, CPU, caches), main.

DEFAULT_CONFIG = "assets/presets/deepseek-v2-lite.json"
ROW_NAMES = ("mha", "gqa", "mqa", "cached-kv", "recompute", "absorbed")

# ============================================================================ config


class Shapes:
    """The bench's shapes, read like core/model/config.cpp reads an HF config.json."""

    def __init__(self, path, kv_heads):
        with open(path) as f:
            j = json.load(f)
        gpt2 = j.get("model_type") == "gpt2"
        self.D = int(j["n_embd" if gpt2 else "hidden_size"])
        self.H = int(j["n_head" if gpt2 else "num_attention_heads"])
        self.eps = float(j.get("layer_norm_epsilon" if gpt2 else "rms_norm_eps", 1e-6) or 1e-6)
        self.theta = float(j.get("rope_theta", 10000.0) or 10000.0)
        deepseek = str(j.get("model_type", "")).startswith("deepseek")
        self.interleaved = deepseek
        if j.get("rope_layout") in ("interleaved", "half"):
            self.interleaved = j["rope_layout"] == "interleaved"
        if isinstance(j.get("rope_interleave"), bool):
            self.interleaved = j["rope_interleave"]
        self.is_mla = int(j.get("kv_lora_rank") or 0) > 0
        if self.is_mla:
            self.C = int(j["kv_lora_rank"])
            self.Cq = int(j.get("q_lora_rank") or 0)
            self.Dn = int(j["qk_nope_head_dim"])
            self.Dr = int(j["qk_rope_head_dim"])
            self.Dv = int(j["v_head_dim"])
            self.Dh = self.Dv  # head dim of the mha/gqa/mqa rows
        else:
            self.Dh = int(j.get("head_dim") or self.D // self.H)
            self.C, self.Cq, self.Dn, self.Dr, self.Dv = 4 * self.Dh, 0, self.Dh, self.Dh // 2, self.Dh
        g = kv_heads
        if g is None or g == 0:  # ours: a quarter of the query heads, at least 2, lowered until it divides H
            g = max(2, self.H // 4)
            while g > 1 and self.H % g != 0:
                g -= 1
        if g < 1 or self.H % g != 0:
            sys.exit(f"bench_torch.py: --kv-heads {kv_heads} must divide the {self.H} query heads")
        self.G = g
        if self.Dh % 2 or self.Dr % 2:
            sys.exit("bench_torch.py: RoPE rotates pairs, so the head dims must be even")


# ============================================================================ operations


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(d, pos, theta):
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = (pos * inv).float()
    return torch.cos(ang), torch.sin(ang)


def rope(x, cs, interleaved):
    """RoPE at one position on the last dim of x: adjacent pairs (DeepSeek) or (i, i + d/2)."""
    cos, sin = cs
    if interleaved:
        xr = x.reshape(*x.shape[:-1], -1, 2)
        a, b = xr[..., 0], xr[..., 1]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), -1).flatten(-2)
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return torch.cat((a * cos - b * sin, a * sin + b * cos), -1)


class Runner:
    """What every block shares: the projection op and how a cache operand is computed with."""

    def __init__(self, s, dtype, bf16_compute, proj):
        self.s = s
        self.store = torch.bfloat16 if dtype == "bf16" else torch.float32
        self.native = dtype == "bf16" and bf16_compute == "native"
        self.cast = dtype == "bf16" and bf16_compute == "cast"
        self.cd = torch.bfloat16 if self.native else torch.float32  # dtype of products with the cache
        self.proj = proj

    def mv(self, w, x):  # (out,) = W (out, in) x (in,)
        if self.proj == "linear":
            return F.linear(x.view(1, -1), w).view(-1)
        return torch.mv(w, x)

    def read(self, cache):  # the cache as a product operand
        return cache.float() if self.cast else cache

    def op(self, t):  # the non-cache operand of a product with the cache
        return t.to(self.cd) if self.native else t


def randn(*shape, std=0.02):
    return torch.randn(*shape) * std


# ============================================================================ blocks
# Shape legend: T = tokens in the cache before the step, D = hidden size, H = query heads,
# G = KV heads, Dh = head dim, C = KV latent rank, Cq = query latent rank, Dn / Dr / Dv = no-RoPE
# / RoPE / value head dims, Dq = Dn + Dr. Weights are (out, in) like nn.Linear.


class Block:
    weights = ()  # the tensors one step reads
    caches = ()

    def bytes_read(self):
        w = sum(t.numel() * t.element_size() for t in self.weights)
        c = sum(t.numel() * t.element_size() for t in self.caches)  # all T + 1 rows
        return w, c


class PlainBlock(Block):
    """MHA (G = H), GQA, MQA (G = 1)."""

    def __init__(self, r, G):
        s = self.s = r.s
        self.r, self.G = r, G
        self.w_q = randn(s.H * s.Dh, s.D)  # (H*Dh, D)
        self.w_k = randn(G * s.Dh, s.D)  # (G*Dh, D)
        self.w_v = randn(G * s.Dh, s.D)  # (G*Dh, D)
        self.w_o = randn(s.D, s.H * s.Dh)  # (D, H*Dh)
        self.weights = (self.w_q, self.w_k, self.w_v, self.w_o)

    def fill(self, T):
        s = self.s
        self.T = T
        self.k_cache = torch.randn(self.G, T + 1, s.Dh).to(self.r.store)  # (G, T+1, Dh)
        self.v_cache = torch.randn(self.G, T + 1, s.Dh).to(self.r.store)  # (G, T+1, Dh)
        self.caches = (self.k_cache, self.v_cache)
        self.cs = rope_tables(s.Dh, T, s.theta)
        self.scale = 1.0 / math.sqrt(s.Dh)

    def step(self, x):
        s, r, G, T = self.s, self.r, self.G, self.T
        q = r.mv(self.w_q, x).view(s.H, s.Dh)
        k = r.mv(self.w_k, x).view(G, s.Dh)
        v = r.mv(self.w_v, x).view(G, s.Dh)
        q = rope(q, self.cs, s.interleaved) * self.scale
        k = rope(k, self.cs, s.interleaved)
        self.k_cache[:, T].copy_(k)
        self.v_cache[:, T].copy_(v)
        K, V = r.read(self.k_cache), r.read(self.v_cache)
        att_scores = torch.matmul(r.op(q.view(G, s.H // G, s.Dh)), K.transpose(1, 2))  # (G, H/G, T+1)
        att_probs = torch.softmax(att_scores.float(), -1)
        att_out = torch.matmul(r.op(att_probs), V).float()  # (G, H/G, Dh)
        return r.mv(self.w_o, att_out.reshape(-1))


class MlaBlock(Block):
    """The three MLA paths; they share the weights and the query / latent computation."""

    def __init__(self, r, path):
        s = self.s = r.s
        self.r, self.path = r, path
        H, D, C, Dq = s.H, s.D, s.C, s.Dn + s.Dr
        w = []
        if s.Cq > 0:
            self.w_q_a = randn(s.Cq, D)  # (Cq, D)      q_a_proj
            self.q_a_norm = torch.ones(s.Cq)  # (Cq,)   q_a_layernorm
            self.w_q_b = randn(H * Dq, s.Cq)  # (H*Dq, Cq) q_b_proj
            w += [self.w_q_a, self.q_a_norm, self.w_q_b]
        else:
            self.w_q = randn(H * Dq, D)  # (H*Dq, D)    q_proj
            w += [self.w_q]
        self.w_kv_a = randn(C + s.Dr, D)  # (C+Dr, D)   kv_a_proj_with_mqa
        self.kv_a_norm = torch.ones(C)  # (C,)          kv_a_layernorm
        self.w_kv_b = randn(H * (s.Dn + s.Dv), C)  # (H*(Dn+Dv), C) kv_b_proj: W_UK and W_UV per head
        self.w_o = randn(D, H * s.Dv)  # (D, H*Dv)      o_proj
        w += [self.w_kv_a, self.kv_a_norm, self.w_kv_b, self.w_o]
        self.weights = tuple(w)
        wkv_b = self.w_kv_b.view(H, s.Dn + s.Dv, C)
        self.w_uk = wkv_b[:, : s.Dn]  # (H, Dn, C) views, as V3's wkv_b[:, :qk_nope_head_dim]
        self.w_uv = wkv_b[:, s.Dn :]  # (H, Dv, C)

    def fill(self, T):
        s, st = self.s, self.r.store
        self.T = T
        if self.path == "cached-kv":
            self.k_cache = torch.randn(s.H, T + 1, s.Dn + s.Dr).to(st)  # (H, T+1, Dq)
            self.v_cache = torch.randn(s.H, T + 1, s.Dv).to(st)  # (H, T+1, Dv)
            self.caches = (self.k_cache, self.v_cache)
        else:
            self.kv_cache = torch.randn(T + 1, s.C).to(st)  # (T+1, C)  c_kv
            self.pe_cache = torch.randn(T + 1, s.Dr).to(st)  # (T+1, Dr) k_rope
            self.caches = (self.kv_cache, self.pe_cache)
        self.cs = rope_tables(s.Dr, T, s.theta)
        self.scale = 1.0 / math.sqrt(s.Dn + s.Dr)

    def step(self, x):
        s, r, T, H = self.s, self.r, self.T, self.s.H
        C, Dn, Dr, Dv = s.C, s.Dn, s.Dr, s.Dv
        # query: q (H, Dq) = W_UQ RMSNorm(W_DQ x), or W_Q x
        if s.Cq > 0:
            c_q = rms_norm(r.mv(self.w_q_a, x), self.q_a_norm, s.eps)
            q = r.mv(self.w_q_b, c_q).view(H, Dn + Dr)
        else:
            q = r.mv(self.w_q, x).view(H, Dn + Dr)
        q_nope = q[:, :Dn] * self.scale
        q_rope = rope(q[:, Dn:], self.cs, s.interleaved) * self.scale
        # [c_kv ; k_rope] = W_DKV_KR x; c_kv = RMSNorm(c_kv); k_rope = RoPE(k_rope), one key for all heads
        kv_a = r.mv(self.w_kv_a, x)
        c_kv = rms_norm(kv_a[:C], self.kv_a_norm, s.eps)
        k_rope = rope(kv_a[C:], self.cs, s.interleaved)

        if self.path == "cached-kv":
            kv = r.mv(self.w_kv_b, c_kv).view(H, Dn + Dv)  # decompress the new token
            self.k_cache[:, T, :Dn].copy_(kv[:, :Dn])
            self.k_cache[:, T, Dn:].copy_(k_rope.expand(H, Dr))
            self.v_cache[:, T].copy_(kv[:, Dn:])
            K, V = r.read(self.k_cache), r.read(self.v_cache)
            q_full = torch.cat((q_nope, q_rope), -1).unsqueeze(1)  # (H, 1, Dq)
            att_scores = torch.matmul(r.op(q_full), K.transpose(1, 2))  # (H, 1, T+1)
            att_probs = torch.softmax(att_scores.float(), -1)
            att_out = torch.matmul(r.op(att_probs), V).float()  # (H, 1, Dv)
            return r.mv(self.w_o, att_out.reshape(-1))

        self.kv_cache[T].copy_(c_kv)
        self.pe_cache[T].copy_(k_rope)
        lat, pe = r.read(self.kv_cache), r.read(self.pe_cache)
        if self.path == "recompute":
            # rebuild K_nope and V of all T+1 tokens: kv_all (T+1, H*(Dn+Dv)) = c_kv kv_b^T
            kv_all = torch.matmul(lat, r.op(self.w_kv_b).t()).view(T + 1, H, Dn + Dv).permute(1, 0, 2)
            k_nope, v = kv_all[..., :Dn], kv_all[..., Dn:]  # (H, T+1, Dn), (H, T+1, Dv)
            att_scores = torch.matmul(r.op(q_nope).unsqueeze(1), k_nope.transpose(1, 2)).squeeze(1)
            att_scores = att_scores + torch.matmul(r.op(q_rope), pe.t())  # (H, T+1)
            att_probs = torch.softmax(att_scores.float(), -1)
            att_out = torch.matmul(r.op(att_probs).unsqueeze(1), v).squeeze(1).float()  # (H, Dv)
            return r.mv(self.w_o, att_out.reshape(-1))

        # absorbed (DeepSeek-V3 "absorb"): K and V never exist
        q_absorbed = torch.einsum("hd,hdc->hc", q_nope, self.w_uk)  # (H, C)
        att_scores = torch.einsum("hc,tc->ht", r.op(q_absorbed), lat) + torch.einsum("hr,tr->ht", r.op(q_rope), pe)
        att_probs = torch.softmax(att_scores.float(), -1)  # (H, T+1)
        o_latent = torch.einsum("ht,tc->hc", r.op(att_probs), lat).float()  # (H, C)
        att_out = torch.einsum("hc,hdc->hd", o_latent, self.w_uv)  # (H, Dv)
        return r.mv(self.w_o, att_out.reshape(-1))


def make_block(r, name):
    s = r.s
    if name == "mha":
        return PlainBlock(r, s.H)
    if name == "gqa":
        return PlainBlock(r, s.G)
    if name == "mqa":
        return PlainBlock(r, 1)
    return MlaBlock(r, name)


# ============================================================================ machine


def blas_info():
    """The BLAS lines of torch.__config__.show(), and the BLAS library actually mapped."""
    show = torch.__config__.show()
    lines = []
    for ln in show.splitlines():
        ln = ln.strip(" -")
        if "BLAS" in ln or "MKL" in ln or "LAPACK" in ln:
            for part in ln.split(", "):
                if any(k in part for k in ("BLAS", "MKL", "LAPACK")) and len(part) < 120:
                    lines.append(part.strip())
    a = torch.ones(8, 8)
    (a @ a).sum()  # make sure the BLAS is loaded
    mapped = []
    with open("/proc/self/maps") as f:
        for ln in f:
            p = ln.split()[-1]
            if ("blas" in p or "mkl" in p) and p not in mapped:
                mapped.append(p)
    cfg, lib = "", None
    for p in mapped:
        if "libopenblas" in p:
            try:
                lib = ctypes.CDLL(p)
                lib.openblas_get_config.restype = ctypes.c_char_p
                cfg = lib.openblas_get_config().decode()
            except (OSError, AttributeError):
                lib = None
    kind = "OpenBLAS" if lib else ("MKL" if any("mkl" in p for p in mapped) or "BLAS_INFO=mkl" in show else "?")
    return {"show": "; ".join(dict.fromkeys(lines)), "mapped": mapped, "kind": kind, "openblas_config": cfg}, lib


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def cpu_caches():
    """Data and unified caches of cpu0, level 2 and up: [(level, bytes, shared_by)]."""
    out = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return out
    for n in names:
        if not n.startswith("index"):
            continue
        try:
            rd = lambda f: open(os.path.join(base, n, f)).read().strip()  # noqa: E731
            if rd("type") not in ("Data", "Unified"):
                continue
            size = rd("size")
            b = int(size[:-1]) * {"K": 1024, "M": 1 << 20, "G": 1 << 30}[size[-1]] if size[-1].isalpha() else int(size)
            shared = 0
            for part in rd("shared_cpu_list").split(","):
                lo, _, hi = part.partition("-")
                shared += int(hi or lo) - int(lo) + 1
            out.append((int(rd("level")), b, shared))
        except (OSError, ValueError, KeyError):
            continue
    return sorted(out)


def residency(nbytes, caches, threads):
    """As ours: the smallest cache level the working set fits in (a private one times the threads), else DRAM."""
    for level, b, shared in caches:
        room = b if shared > 1 else b * threads
        if level >= 2 and nbytes <= room:
            return f"L{level}"
    return "DRAM" if caches else "?"


def mem_available():
    try:
        with open("/proc/meminfo") as f:
            for ln in f:
                if ln.startswith("MemAvailable:"):
                    return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return None


def mib(b):
    return f"{b / (1 << 20):.1f} MiB" if b >= 1 << 20 else f"{b / 1024:.0f} KiB"


# ============================================================================ main


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch peer of `mla-lab bench`: one decode step of one layer's attention block on the CPU "
        "(not part of the build or the tests)."
    )
    ap.add_argument("--config", default=DEFAULT_CONFIG, help=f"HF config.json (default: {DEFAULT_CONFIG})")
    ap.add_argument("--context", default="1024,4096,16384", help="tokens in the cache, comma-separated")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads and OpenBLAS threads (default 2)")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32", help="how the cache is stored")
    ap.add_argument("--bf16-compute", choices=("native", "cast"), default="native",
                    help="bf16 cache: native = bf16 matmuls against it; cast = widen it to fp32 each step (as ours)")
    ap.add_argument("--repeat", type=int, default=20, help="timed steps per row (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--kinds", default=",".join(ROW_NAMES),
                    help="rows, comma-separated: mha, gqa, mqa, cached-kv, recompute, absorbed (mla = the three paths)")
    ap.add_argument("--kv-heads", type=int, default=0, help="KV heads of the gqa row (default as ours: a quarter of H)")
    ap.add_argument("--proj", choices=("mv", "linear"), default="mv",
                    help="projections by torch.mv (default, as ours) or F.linear on a (1, D) input (as nn.Linear)")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed for weights, cache and input")
    ap.add_argument("--json", action="store_true", help="one JSON object with the rows")
    a = ap.parse_args()

    try:
        contexts = [int(t) for t in a.context.split(",") if t.strip()]
    except ValueError:
        sys.exit(f"bench_torch.py: --context '{a.context}' must be comma-separated token counts, e.g. 1024,4096")
    if not contexts or min(contexts) < 1:
        sys.exit("bench_torch.py: --context needs token counts of 1 or more")
    if a.threads < 1 or a.repeat < 1 or a.warmup < 0:
        sys.exit("bench_torch.py: --threads and --repeat must be 1 or more, --warmup 0 or more")
    kinds = []
    for k in a.kinds.split(","):
        k = k.strip().lower()
        want = ("cached-kv", "recompute", "absorbed") if k == "mla" else (k,)
        for w in want:
            if w not in ROW_NAMES:
                sys.exit(f"bench_torch.py: --kinds '{k}' is not known; use {', '.join(ROW_NAMES)} or mla")
            if w not in kinds:
                kinds.append(w)
    kinds = [k for k in ROW_NAMES if k in kinds]  # ours' order
    try:
        s = Shapes(a.config, a.kv_heads)
    except (OSError, KeyError, ValueError, TypeError) as e:
        sys.exit(f"bench_torch.py: cannot read the config '{a.config}': {e!r}")

    torch.set_num_threads(a.threads)
    blas, openblas = blas_info()
    if openblas is not None:
        openblas.openblas_set_num_threads(a.threads)
    ob_threads = openblas.openblas_get_num_threads() if openblas is not None else None
    torch.manual_seed(a.seed)
    r = Runner(s, a.dtype, a.bf16_compute, a.proj)
    caches = cpu_caches()
    l3 = [c for c in caches if c[0] == 3]
    if a.dtype == "fp32":
        dtype_line = "cache fp32: every product in fp32"
    elif r.native:
        dtype_line = ("cache stored in torch.bfloat16 (new row rounded in by copy_); products with the cache run as "
                      "bf16 matmuls, the other operand cast to bf16 at the call (recompute: kv_b_proj's weight cast "
                      "to bf16 each step); softmax in fp32; attention output cast to fp32 for W_UV / o_proj; weights "
                      "and projections fp32")
    else:
        dtype_line = ("cache stored in torch.bfloat16 (new row rounded in by copy_); each step widens it to fp32 "
                      "(.float(), a copy) and computes all in fp32, as mla-lab bench does")
    head = {
        "tool": "tools/bench_torch.py (PyTorch peer of mla-lab bench; not part of the build or tests)",
        "config": a.config,
        "shapes": {"D": s.D, "H": s.H, "G_gqa": s.G, "Dh_plain": s.Dh, "C": s.C, "Cq": s.Cq, "Dn": s.Dn,
                   "Dr": s.Dr, "Dv": s.Dv, "rope": "interleaved" if s.interleaved else "half"},
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "blas": blas,
        "threads": {"torch": torch.get_num_threads(), "openblas": ob_threads, "interop": torch.get_num_interop_threads(),
                    "omp_wait_policy": os.environ["OMP_WAIT_POLICY"]},
        "cpu": cpu_model(),
        "cpu_data_caches": [{"level": c[0], "bytes": c[1], "shared_by": c[2]} for c in caches],
        "l3_bytes": l3[0][1] if l3 else None,
        "cache_dtype": a.dtype,
        "bf16_compute": a.bf16_compute if a.dtype == "bf16" else None,
        "dtype_note": dtype_line,
        "projection": "torch.mv" if a.proj == "mv" else "F.linear on (1, D)",
        "warmup": a.warmup,
        "repeat": a.repeat,
    }
    if not a.json:
        print("PyTorch peer of `mla-lab bench`: one decode step of one layer's attention block, CPU")
        print(f"config {a.config}: D {s.D}, H {s.H}; mha/gqa/mqa Dh {s.Dh}, gqa G {s.G}; "
              f"mla C {s.C}, Cq {s.Cq or 'none'}, Dn {s.Dn}, Dr {s.Dr}, Dv {s.Dv}; RoPE {head['shapes']['rope']}")
        print(f"python {head['python']}, torch {torch.__version__}, numpy {np.__version__}")
        print(f"BLAS: {blas['kind']}; torch config: {blas['show'] or '(no BLAS line)'}")
        if blas["mapped"]:
            print(f"BLAS mapped: {', '.join(blas['mapped'])}" + (f" ({blas['openblas_config']})" if blas["openblas_config"] else ""))
        print(f"threads: torch {torch.get_num_threads()}, OpenBLAS {ob_threads if ob_threads is not None else '-'}, "
              f"interop {torch.get_num_interop_threads()}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}"
              f"{' (given)' if OMP_WAIT_POLICY_GIVEN else ' (set by this script: spinning OpenMP threads starve OpenBLAS)'}")
        print(f"CPU: {head['cpu']}" + (f"; L3 {mib(l3[0][1])} (shared by {l3[0][2]})" if l3 else "; L3 not visible"))
        print(f"dtype: {dtype_line}")
        print(f"projections: {head['projection']}; {a.warmup} warm-up + {a.repeat} timed steps per row, "
              f"torch.inference_mode()")
        print(f"{'kind':<5} {'path':<10} {'cache':<5} {'context':>8} {'ms/step':>10} {'p10':>9} {'p90':>9} "
              f"{'min':>9} {'max':>9} {'bytes read':>12} {'cache read':>12} {'GB/s':>8} {'in':>5}")
        sys.stdout.flush()

    rows = []
    x = torch.randn(s.D)  # the normalised input token (D,)
    with torch.inference_mode():
        for name in kinds:
            block = make_block(r, name)
            for T in contexts:
                block.caches = ()
                w_bytes = sum(t.numel() * t.element_size() for t in block.weights)
                per_tok = {"mha": 2 * s.H * s.Dh, "gqa": 2 * s.G * s.Dh, "mqa": 2 * s.Dh,
                           "cached-kv": s.H * (s.Dn + s.Dr + s.Dv)}.get(name, s.C + s.Dr)
                need = (T + 1) * per_tok * 4 * 2 + (T + 1) * s.H * (s.Dn + s.Dv) * 4 * 2 * (name == "recompute")
                avail = mem_available()
                if avail is not None and need + w_bytes > 0.8 * avail:
                    sys.exit(f"bench_torch.py: {name} at context {T} needs about {mib(need + w_bytes)}, more than "
                             f"the {mib(avail)} available; give a shorter --context")
                block.fill(T)
                for _ in range(a.warmup):
                    block.step(x)
                ms = []
                for _ in range(a.repeat):
                    t0 = time.perf_counter()
                    block.step(x)
                    ms.append((time.perf_counter() - t0) * 1e3)
                w_b, c_b = block.bytes_read()
                total = w_b + c_b
                med = float(np.median(ms))
                p10, p90 = (float(v) for v in np.percentile(ms, [10, 90]))
                gbs = total / (med * 1e-3) / 1e9
                row = {"kind": "mla" if name in ("cached-kv", "recompute", "absorbed") else name,
                       "path": name if name in ("cached-kv", "recompute", "absorbed") else "-",
                       "cache_dtype": a.dtype,
                       "context": T,
                       "kv_heads": {"mha": s.H, "gqa": s.G, "mqa": 1}.get(name, 0),
                       "ms_per_step": med, "ms_p10": p10, "ms_p90": p90, "ms_min": min(ms), "ms_max": max(ms),
                       "bytes_read_per_step": total, "cache_bytes_read_per_step": c_b, "weight_bytes_per_step": w_b,
                       "working_set_in": residency(total, caches, a.threads),
                       "gb_per_s": gbs, "repeats": len(ms)}
                rows.append(row)
                if not a.json:
                    print(f"{row['kind']:<5} {row['path']:<10} {a.dtype:<5} {T:>8} {med:>10.3f} {p10:>9.3f} {p90:>9.3f} "
                          f"{min(ms):>9.3f} {max(ms):>9.3f} {total:>12d} {c_b:>12d} {gbs:>8.2f} {row['working_set_in']:>5}")
                    sys.stdout.flush()
                block.caches = ()
                for attr in ("k_cache", "v_cache", "kv_cache", "pe_cache"):
                    if hasattr(block, attr):
                        delattr(block, attr)
    if a.json:
        head["rows"] = rows
        print(json.dumps(head, indent=2))
    else:
        print("bytes read = weights (fp32) + the T + 1 cache rows in their stored dtype, one layer's attention block "
              "(as mla-lab bench's bytes_read_per_step); ms/step = median; 'in' = the smallest cache level the "
              "bytes read fit in")


if __name__ == "__main__":
    main()
