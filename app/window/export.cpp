#include "window/export.h"

#include <epoxy/gl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include "base/text_file.h"
#include "views/view_logic.h"

namespace mla::app {

bool Image::blank() const {
    if (rgba.size() < 4) return true;
    for (size_t i = 4; i < rgba.size(); i += 4)
        if (rgba[i] != rgba[0] || rgba[i + 1] != rgba[1] || rgba[i + 2] != rgba[2]) return false;
    return true;
}

Image read_pixels(int x, int y, int w, int h, int fb_height) {
    Image img;
    if (w <= 0 || h <= 0) return img;
    img.width = w;
    img.height = h;
    std::vector<uint8_t> raw(static_cast<size_t>(w) * h * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(x, fb_height - y - h, w, h, GL_RGBA, GL_UNSIGNED_BYTE, raw.data());
    img.rgba.resize(raw.size());
    const size_t row = static_cast<size_t>(w) * 4;
    for (int r = 0; r < h; ++r)  // GL's origin is bottom-left
        std::copy_n(raw.data() + static_cast<size_t>(h - 1 - r) * row, row, img.rgba.data() + static_cast<size_t>(r) * row);
    for (size_t i = 3; i < img.rgba.size(); i += 4) img.rgba[i] = 255;  // opaque, whatever the framebuffer's alpha
    return img;
}

bool write_png(const std::string& path, const Image& img, std::string* error) {
    if (img.width <= 0 || img.height <= 0) {
        if (error) *error = "nothing to write: the image is empty";
        return false;
    }
    std::string png;  // encoded in memory, then written in full or not at all
    auto append = [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
    };
    if (!stbi_write_png_to_func(append, &png, img.width, img.height, 4, img.rgba.data(), img.width * 4)) {
        if (error) *error = "cannot encode the PNG for " + path;
        return false;
    }
    return write_text(path, png, error);
}

nlohmann::json trace_json(const Trace& t, const Config& c) {
    using nlohmann::json;
    json j;
    j["step"] = t.step;
    j["position"] = t.position;
    j["token"] = t.token;
    j["token_text"] = token_text(t.token, TokenStyle::Label);
    j["cache_tokens"] = t.cache_tokens;
    j["kind"] = to_string(t.kind);
    j["options"] = {{"mla_path", to_string(t.options.mla_path)},
                    {"rope_on_latent", t.options.rope_on_latent},
                    {"no_cache", t.options.no_cache},
                    {"cache_dtype", to_string(t.options.cache_dtype)}};
    j["backend"] = t.backend;
    j["step_ms"] = t.step_ms;
    j["cost"] = cost_json(t.cost);
    j["cache_elements_per_layer"] = t.cache_elements_per_layer;
    j["config"] = config_to_json(c);
    json tensors = json::array();
    for (const TensorRecord& r : t.tensors) {
        json tr = {{"name", r.name}, {"layer", r.layer}, {"shape", r.shape}};
        if (!r.data.empty()) tr["data"] = r.data;
        tensors.push_back(std::move(tr));
    }
    j["tensors"] = std::move(tensors);
    return j;
}

namespace {
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}
}  // namespace

std::string head_csv(const std::vector<Trace>& traces, const std::vector<std::string>& labels, int64_t upto, int layer,
                     int head) {
    const std::vector<float> m = attention_matrix(traces, upto, layer, head);
    const int64_t n = upto + 1;
    auto label = [&](int64_t i) {
        const std::string l = i < static_cast<int64_t>(labels.size()) ? labels[static_cast<size_t>(i)] : "?";
        return csv_field(std::to_string(i) + ":" + l);
    };
    std::string s = "query \\ key";
    for (int64_t j = 0; j < n; ++j) {
        s += ',';
        s += label(j);
    }
    s += "\n";
    char buf[32];
    for (int64_t i = 0; i < n; ++i) {
        s += label(i);
        for (int64_t j = 0; j < n; ++j) {
            s += ",";
            const float v = m[static_cast<size_t>(i * n + j)];
            if (j <= i && v == v) {
                std::snprintf(buf, sizeof buf, "%.6g", v);
                s += buf;
            }
        }
        s += "\n";
    }
    return s;
}

std::string export_path(const std::string& dir, const std::string& stem, const std::string& ext, const std::string& prefix) {
    namespace fs = std::filesystem;
    const fs::path base = dir.empty() ? fs::path(".") : fs::path(dir);
    fs::path p = base / (prefix + stem + "." + ext);
    for (int k = 2; fs::exists(p) && k < 10000; ++k) p = base / (prefix + stem + "-" + std::to_string(k) + "." + ext);
    return p.string();
}

bool write_text(const std::string& path, const std::string& text, std::string* error) {
    try {
        write_file_atomic(path, text);
    } catch (const InputError& e) {
        if (error) *error = e.what();
        return false;
    }
    return true;
}

}  // namespace mla::app
