#include "io/model_folder.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "base/memory.h"
#include "base/numbers.h"
#include "base/json_read.h"
#include "base/text_file.h"

namespace mla {

namespace fs = std::filesystem;

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

std::vector<int64_t> expected_shape(const TensorSpec& t) {
    return t.is_vector ? std::vector<int64_t>{t.rows} : std::vector<int64_t>{t.rows, t.cols};
}

// Buffers that HF checkpoints may carry and that the engine recomputes.
bool tolerated_extra(const std::string& name) {
    const std::string suffix = "rotary_emb.inv_freq";
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first problem and how many more, on one line: a model with 40 wrong layers would
// otherwise print hundreds of lines.
std::string first_and_count(const std::vector<std::string>& problems) {
    std::string out = problems.front();
    if (problems.size() > 1)
        out += " (and " + std::to_string(problems.size() - 1) + " more difference" + (problems.size() > 2 ? "s" : "") + ")";
    return out;
}

}  // namespace

Weights load_model(const std::string& dir) {
    const fs::path root(dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        throw InputError("model folder '" + dir + "' does not exist or is not a folder; give a folder holding "
                         "config.json and model.safetensors");
    const fs::path config_path = root / "config.json";
    const fs::path st_path = root / "model.safetensors";
    if (!fs::exists(config_path, ec))
        throw InputError("model folder '" + dir + "' has no config.json; a model is a folder with config.json "
                         "and model.safetensors");
    const fs::path index_path = root / "model.safetensors.index.json";
    const bool sharded = !fs::exists(st_path, ec) && fs::exists(index_path, ec);
    if (!fs::exists(st_path, ec) && !sharded) {
        std::string hint = "a model is a folder with config.json and model.safetensors (or shards named by "
                           "model.safetensors.index.json)";
        if (fs::exists(root / "pytorch_model.bin", ec))
            hint = "pytorch_model.bin is not read; save the model with safe_serialization=True";
        throw InputError("model folder '" + dir + "' has no model.safetensors; " + hint);
    }

    Weights w;
    w.cfg = load_config_file(config_path.string());
    try {
        validate(w.cfg, true);
    } catch (const InputError& e) {
        throw InputError(config_path.string() + ": " + e.what(), e.field);
    }

    // The file's header against the config, before any weight is allocated: a small folder
    // whose config asks for billions of parameters is refused here, by what the file holds.
    // One file, or the shards of model.safetensors.index.json ("weight_map": tensor -> file
    // in this folder); each tensor must be in the shard the index names, and in one only.
    std::string file = st_path.string();
    std::vector<std::unique_ptr<SafetensorsReader>> readers;
    std::map<std::string, std::pair<const SafetensorsEntry*, SafetensorsReader*>> in_file;
    if (!sharded) {
        check_regular_file(file, INT64_MAX, "; a model folder holds model.safetensors");
        readers.push_back(std::make_unique<SafetensorsReader>(file));
    } else {
        file = index_path.string();
        const nlohmann::json index = read_json_file(file);
        if (!index.is_object() || !index.contains("weight_map") || !index.at("weight_map").is_object())
            throw InputError(file + ": weight_map must be an object of tensor name: shard file", "weight_map");
        std::map<std::string, std::string> shard_of;
        std::map<std::string, size_t> shard_index;
        for (const auto& [name, v] : index.at("weight_map").items()) {
            if (!v.is_string()) throw InputError(file + ": weight_map['" + name + "'] must be a file name, got " + excerpt(v), "weight_map");
            const std::string shard = v.get<std::string>();
            if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos || shard == "." || shard == "..")
                throw InputError(file + ": weight_map['" + name + "'] is '" + shard + "'; a shard is a file name in the model folder", "weight_map");
            shard_of[name] = shard;
            if (!shard_index.count(shard)) {
                if (shard_index.size() >= 4096) throw InputError(file + ": more than 4096 shards", "weight_map");
                const std::string path = (root / shard).string();
                check_regular_file(path, INT64_MAX, "; " + file + " names it in weight_map");
                shard_index[shard] = readers.size();
                readers.push_back(std::make_unique<SafetensorsReader>(path));
            }
        }
        for (const auto& [shard, k] : shard_index)
            for (const SafetensorsEntry& e : readers[k]->entries()) {
                const auto named = shard_of.find(e.name);
                if (named == shard_of.end() || named->second != shard)
                    throw InputError((root / shard).string() + " holds '" + e.name + "', which " + file +
                                     (named == shard_of.end() ? " does not name" : " puts in " + named->second), "weight_map");
            }
        for (const auto& [name, shard] : shard_of)
            if (!readers[shard_index[shard]]->find(name))
                throw InputError(file + " puts '" + name + "' in " + shard + ", which does not hold it", "weight_map");
    }
    for (const auto& r : readers)
        for (const SafetensorsEntry& e : r->entries()) in_file[e.name] = {&e, r.get()};

    const auto located = in_file;   // every tensor's entry and file, for reading below
    const std::vector<TensorSpec> expected = tensor_specs(w.cfg);
    std::vector<std::string> problems;
    size_t unexpected = 0;
    std::string first_unexpected;
    for (const TensorSpec& t : expected) {
        auto it = in_file.find(t.name);
        if (it == in_file.end()) {
            std::string line = t.name + " is missing (expected shape " + shape_str(expected_shape(t)) + ")";
            if (t.name == "lm_head.weight")
                line += "; if the model shares it with the embedding, set \"tie_word_embeddings\": true in config.json";
            problems.push_back(line);
            continue;
        }
        if (it->second.first->shape != expected_shape(t))
            problems.push_back(t.name + " has shape " + it->second.first->shape_str() + ", expected " +
                               shape_str(expected_shape(t)) + " from config.json");
        in_file.erase(it);
    }
    for (const auto& [name, e] : in_file) {
        if (tolerated_extra(name)) continue;
        if (name == "lm_head.weight" && w.cfg.tie_word_embeddings) continue;  // tied: the embedding is used
        if (unexpected++ == 0) first_unexpected = name + " " + e.first->shape_str();
    }
    if (unexpected > 0)
        problems.push_back(std::to_string(unexpected) + " tensor(s) the config does not call for, first " +
                           first_unexpected + " (wrong config, or a model kind MLA Lab does not run)");
    if (!problems.empty())
        throw InputError(file + " does not match " + config_path.string() + " (" +
                         std::string(to_string(w.cfg.attn_kind())) + ", " + std::to_string(w.cfg.num_hidden_layers) +
                         " layers): " + first_and_count(problems));

    // The shapes match, so the file holds every weight; the float32 copy must fit in memory.
    check_memory(4.0 * parameter_count(w.cfg), "loading " + dir + " (" + with_commas(parameter_count(w.cfg)) +
                 " parameters in float32)", "choose a smaller model");
    allocate(w);
    const std::vector<NamedTensor> expected_data = list_tensors(w);
    for (const NamedTensor& t : expected_data) {
        const auto& [entry, reader] = located.at(t.spec.name);
        reader->read(*entry, t.data);
        const int64_t n = t.spec.size();
        for (int64_t i = 0; i < n; ++i)
            if (!std::isfinite(t.data[i]))
                throw InputError(file + ": tensor '" + t.spec.name + "' holds " + std::to_string(t.data[i]) +
                                 " at element " + std::to_string(i) + "; weights must be finite");
    }
    if (w.cfg.tie_word_embeddings) w.lm_head = w.embed;
    return w;
}

void save_model(const Weights& w, const std::string& dir) {
    validate(w.cfg, true);
    if (static_cast<int64_t>(w.layers.size()) != w.cfg.num_hidden_layers)
        throw InputError("cannot save the model: it has " + std::to_string(w.layers.size()) +
                         " layers, but its config says " + std::to_string(w.cfg.num_hidden_layers));
    std::vector<SafetensorsOut> out;
    each_tensor(w.cfg, [&](const TensorSpec& t, const auto& f) {
        if (f.rows() != t.rows || f.cols() != t.cols)
            throw InputError("cannot save the model: tensor " + t.name + " is " + std::to_string(f.rows()) + " x " +
                             std::to_string(f.cols()) + ", but its config says " + std::to_string(t.rows) + " x " +
                             std::to_string(t.cols));
        out.push_back({t.name, expected_shape(t), f.data()});
    }, w);

    const fs::path root(dir);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec || !fs::is_directory(root))
        throw InputError("cannot create the model folder '" + dir + "': " + (ec ? ec.message() : "not a folder"));
    const fs::path config_path = root / "config.json";
    const fs::path st_path = root / "model.safetensors";
    // Both files are written in full before either replaces the old one.
    AtomicFile config_file(config_path.string()), weights_file(st_path.string());
    config_file.write(config_to_json(w.cfg).dump(2) + "\n");
    write_safetensors(weights_file, out, {{"format", "pt"}});
    config_file.finish();
    weights_file.finish();
    weights_file.commit();
    config_file.commit();
}

}  // namespace mla
