// A model folder in Hugging Face's conventions: config.json + model.safetensors, tensor
// names from each_tensor (model/weights.h): Llama names for MHA/GQA/MQA, DeepseekV2 names
// for MLA.
#pragma once

#include <string>

#include "model/weights.h"

namespace mla {

// Reads dir/config.json and dir/model.safetensors (F32, F16 or BF16). The config must be one
// the engine runs (validate(cfg, true): no MoE, no YaRN). Every expected tensor must be
// present with exactly its shape and finite values; unexpected tensors are refused by name,
// except buffers HF checkpoints carry (rotary_emb.inv_freq). With tie_word_embeddings,
// lm_head is the embedding (a lm_head.weight in the file is ignored).
// Throws InputError naming the file and what was wrong.
Weights load_model(const std::string& dir);

// Writes dir/config.json and dir/model.safetensors (F32), creating dir. Each file is written
// to a temporary name first and renamed, so an error leaves no half-written file.
void save_model(const Weights& w, const std::string& dir);

}  // namespace mla
