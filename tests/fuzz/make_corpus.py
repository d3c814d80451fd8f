#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, tests/fuzz/corpus/<target>/, from the repo's
own files (presets, model folders of tests/fixtures, lesson chapters, a trained model's
train.json and train.csv) and a few tiny hand-made files. Every seed stays under 64 KB.

    python3 tests/fuzz/make_corpus.py      # from anywhere; rewrites the corpus folders

The checkpoint seed of fuzz_train comes from the fuzz target itself (it must match its
tiny trainer); the script keeps an existing one and says how to make it otherwise:
    MLA_FUZZ_WRITE_CHECKPOINT=tests/fuzz/corpus/fuzz_train/checkpoint.bin build-fuzz/bin/fuzz_train
"""
import json
import os
import shutil
import struct
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
LIMIT = 64 * 1024


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > LIMIT:
        sys.exit(f"seed {target}/{name} is {len(data)} bytes, over {LIMIT}")
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape, bytes). Offsets in order, header padded to 8."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, blob in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def f16(values):
    return struct.pack(f"<{len(values)}e", *values)


def bf16(values):
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in values)


def tiny_model(cfg, dtype="F32"):
    """A model.safetensors with every tensor of each_tensor (model/weights.h) for cfg."""
    D, H, F, V = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"], cfg["vocab_size"]
    out = []

    def t(name, rows, cols=None):
        shape = [rows] if cols is None else [rows, cols]
        n = rows * (cols or 1)
        vals = [((i * 7919) % 17 - 8) / 16.0 for i in range(n)] if cols else [1.0] * n
        blob = {"F32": f32, "F16": f16, "BF16": bf16}[dtype](vals)
        out.append((name, dtype, shape, blob))

    t("model.embed_tokens.weight", V, D)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        t(p + "input_layernorm.weight", D)
        if cfg.get("kv_lora_rank"):
            C, Cq = cfg["kv_lora_rank"], cfg.get("q_lora_rank") or 0
            Dn, Dr, Dv = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
            if Cq:
                t(p + "self_attn.q_a_proj.weight", Cq, D)
                t(p + "self_attn.q_a_layernorm.weight", Cq)
                t(p + "self_attn.q_b_proj.weight", H * (Dn + Dr), Cq)
            else:
                t(p + "self_attn.q_proj.weight", H * (Dn + Dr), D)
            t(p + "self_attn.kv_a_proj_with_mqa.weight", C + Dr, D)
            t(p + "self_attn.kv_a_layernorm.weight", C)
            t(p + "self_attn.kv_b_proj.weight", H * (Dn + Dv), C)
            t(p + "self_attn.o_proj.weight", D, H * Dv)
        else:
            G, Dh = cfg["num_key_value_heads"], cfg["head_dim"]
            t(p + "self_attn.q_proj.weight", H * Dh, D)
            t(p + "self_attn.k_proj.weight", G * Dh, D)
            t(p + "self_attn.v_proj.weight", G * Dh, D)
            t(p + "self_attn.o_proj.weight", D, H * Dh)
        t(p + "post_attention_layernorm.weight", D)
        t(p + "mlp.gate_proj.weight", F, D)
        t(p + "mlp.up_proj.weight", F, D)
        t(p + "mlp.down_proj.weight", D, F)
    t("model.norm.weight", D)
    if not cfg.get("tie_word_embeddings"):
        t("lm_head.weight", V, D)
    return safetensors(out, {"format": "pt"})


TINY_GQA = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 8, "hidden_size": 4,
    "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
    "head_dim": 2, "max_position_embeddings": 16, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
    "rope_scaling": None, "tie_word_embeddings": False, "torch_dtype": "float32",
}
TINY_MLA = {
    "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "vocab_size": 8, "hidden_size": 4,
    "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
    "max_position_embeddings": 16, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "rope_scaling": None,
    "q_lora_rank": 2, "kv_lora_rank": 2, "qk_nope_head_dim": 2, "qk_rope_head_dim": 2, "v_head_dim": 2,
    "n_routed_experts": None, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
}


def folder(config_bytes, model_bytes):
    return struct.pack("<I", len(config_bytes)) + config_bytes + model_bytes


def main():
    for t in ("fuzz_safetensors", "fuzz_config", "fuzz_model_folder", "fuzz_lesson", "fuzz_settings"):
        shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)
    ckpt = os.path.join(CORPUS, "fuzz_train", "checkpoint.bin")
    kept = open(ckpt, "rb").read() if os.path.exists(ckpt) else None
    shutil.rmtree(os.path.join(CORPUS, "fuzz_train"), ignore_errors=True)

    # ---- fuzz_safetensors
    s = "fuzz_safetensors"
    put(s, "ref_gqa_bf16.safetensors", read("tests/fixtures/ref_gqa_bf16/model.safetensors"))
    put(s, "ref_mla_noq.safetensors", read("tests/fixtures/ref_mla_noq/model.safetensors"))
    put(s, "dtypes.safetensors", safetensors([
        ("a.f32", "F32", [2, 3], f32([0, 1, -1, 1e30, -2.5, 3])),
        ("b.f16", "F16", [4], f16([0, 1, -65504, 6e-8])),
        ("c.bf16", "BF16", [2, 2], bf16([1, -1, 1e38, 0.5])),
        ("d.i64", "I64", [2], struct.pack("<2q", 1, -1)),
        ("e.u8", "U8", [3], b"\x00\x7f\xff"),
        ("f.scalar", "F32", [], f32([7])),
        ("g.empty", "F32", [0, 5], b""),
        ("h.bool", "BOOL", [1], b"\x01"),
    ], {"format": "pt", "note": "hand-made"}))
    put(s, "nometa_unpadded.safetensors", safetensors([("x", "F16", [1, 1], f16([1.0]))], None, pad=False))
    put(s, "empty_header.safetensors", struct.pack("<Q", 2) + b"{}")
    whole = read("tests/fixtures/ref_mla_noq/model.safetensors")
    put(s, "truncated.safetensors", whole[:4096])
    put(s, "header_only.safetensors", whole[:8 + struct.unpack("<Q", whole[:8])[0]])

    # ---- fuzz_config
    c = "fuzz_config"
    presets = os.path.join(ROOT, "assets", "presets")
    for f in sorted(os.listdir(presets)):
        put(c, "preset-" + f, read(os.path.join("assets", "presets", f)))
    for d in ("ref_gqa", "ref_gqa_bf16", "ref_mla", "ref_mla_noq"):
        put(c, f"fixture-{d}.json", read(f"tests/fixtures/{d}/config.json"))
    for d in ("mha-fortunes", "gqa-fortunes", "mqa-fortunes", "mla-fortunes"):
        put(c, f"model-{d}.json", read(f"assets/models/{d}/config.json"))
    put(c, "tiny-gqa.json", json.dumps(TINY_GQA, indent=1))
    put(c, "tiny-mla.json", json.dumps(TINY_MLA, indent=1))

    # ---- fuzz_model_folder: 4-byte little-endian config length, config.json, model.safetensors
    m = "fuzz_model_folder"
    for d in ("ref_gqa_bf16", "ref_mla_noq"):
        put(m, d, folder(read(f"tests/fixtures/{d}/config.json"), read(f"tests/fixtures/{d}/model.safetensors")))
    put(m, "tiny_gqa_f32", folder(json.dumps(TINY_GQA).encode(), tiny_model(TINY_GQA, "F32")))
    put(m, "tiny_mla_bf16", folder(json.dumps(TINY_MLA).encode(), tiny_model(TINY_MLA, "BF16")))
    put(m, "tiny_mla_f16", folder(json.dumps(TINY_MLA).encode(), tiny_model(TINY_MLA, "F16")))

    # ---- fuzz_lesson
    lesson = os.path.join(ROOT, "assets", "lesson")
    for f in sorted(os.listdir(lesson)):
        if f.endswith(".md"):
            put("fuzz_lesson", f, read(os.path.join("assets", "lesson", f)))
    put("fuzz_lesson", "every-line-kind.md", "\n".join([
        "# A chapter", "<!-- a comment", "over lines -->", "## A page", "Plain text with {{elements}} and",
        "{{bytes_per_token mqa dtype=bf16}} joined.", "", "$$ score = q . k / sqrt(d)", "> A note.",
        "- a bullet {{ratio mha mla path=absorbed}}",
        "@show kind=gqa kv_heads=2 steps=8 view=cache layer=1 head=0 prompt=\"a\\nb\" seed=3",
        "@question How many {{config hidden_size}}?", "@answer {{cache_bytes gqa tokens=10}}", "## Presets",
        "{{preset.gb deepseek-v3 mla}} vs {{preset.gib deepseek-v3 mha}}, {{preset.ratio llama-2-70b mha gqa}},",
        "{{preset.field deepseek-v3 kv_lora_rank}} {{preset.formula mistral-7b own}} {{preset.terms gpt2 mqa}}",
        "{{flops mla tokens=4 no_cache}} {{flops_total tokens=3}} {{quality.loss mla}} {{quality.verdict}}",
        "@show kind=mla kv_lora_rank=16 rope_dim=4 q_lora_rank=8 mla_path=recompute rope_on_latent=true no_cache=false trained=fortunes",
        ""]))

    # ---- fuzz_settings: settings.json and lesson.json as the window writes them
    g = "fuzz_settings"
    put(g, "settings-default.json", json.dumps({
        "scale": 1.0, "theme": "dark", "open_views": ["shapes", "cache", "attention", "absorption", "compare",
                                                      "curves", "lesson", "quality"],
        "active_view": "shapes", "layout": "tabs", "play_speed": 4.0, "export_dir": ""}, indent=2))
    put(g, "settings-edited.json", json.dumps({
        "scale": 2.75, "theme": "light", "open_views": ["compare", "shapes", "nosuch", 3], "active_view": "compare",
        "layout": "tiles", "play_speed": 60.5, "export_dir": "/tmp/exports", "unknown": {"a": [1, 2]}}))
    put(g, "lesson-progress.json", json.dumps({
        "page": "04-mqa-gqa/2", "seen": ["01-repeated-work/1", "01-repeated-work/2", "04-mqa-gqa/2", "zz/1", 7]},
        indent=2))
    put(g, "lesson-empty.json", "{}")
    put(g, "session.json", json.dumps({'mla_lab_session': 1, 'model': {'kind': 'gqa', 'kv_heads': 1, 'kv_lora_rank': 32, 'rope_dim': 8, 'q_lora_rank': 0, 'mla_path': 'absorbed', 'rope_on_latent': False, 'no_cache': False, 'cache_dtype': 'bf16', 'weights': 'auto', 'trained_set': 'fortunes', 'seed': 1, 'sample_seed': 42, 'temperature': 0.7, 'top_k': 5, 'top_p': 0.9, 'backend': 'cpu', 'prompt': 'The cache grows'}, 'steps': 24, 'shown_step': 20, 'view': 'attention', 'layout': 'tiles', 'lesson_page': '04-mqa-gqa/2', 'curves': {'models': ['deepseek-v3', 'llama-3-8b'], 'configs': ['/tmp/some/config.json'], 'own': True, 'kinds': ['mha', 'mla'], 'dtype': 'fp8', 'batch': 8, 'max_tokens': 1000000, 'min_tokens': 0, 'log': False, 'gib': False, 'fits_gb': 40.0, 'table_tokens': 100000, 'choices': {'groups': 0, 'latent': 0, 'rope_dim': 0}}}, indent=2))
    put(g, "session-odd.json", json.dumps({'mla_lab_session': 1, 'model': {'kind': 'mla', 'kv_lora_rank': 0, 'rope_dim': 7, 'kv_heads': 'x', 'glow': 1}, 'steps': -3, 'shown_step': 99, 'view': 'nosuch', 'layout': 'sideways', 'curves': {'batch': 0, 'kinds': ['mla-x']}}))

    # ---- fuzz_train: train.json, train.csv, checkpoint.bin
    t = "fuzz_train"
    put(t, "train.json", read("assets/models/mla-fortunes/train.json"))
    put(t, "train.csv", read("assets/models/mla-fortunes/train.csv"))
    put(t, "train-short.csv", "step,train_loss,val_loss,tokens_seen,seconds\n0,5.5,5.6,0,0.1\n\n4,inf,nan,-1,1e300\n")
    if kept is not None:
        put(t, "checkpoint.bin", kept)
    else:
        print("no checkpoint seed: MLA_FUZZ_WRITE_CHECKPOINT=tests/fuzz/corpus/fuzz_train/checkpoint.bin "
              "build-fuzz/bin/fuzz_train", file=sys.stderr)

    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(CORPUS) for f in fs)
    print(f"corpus: {total} bytes in {CORPUS}")


if __name__ == "__main__":
    main()
