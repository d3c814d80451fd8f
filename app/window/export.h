// Exports: a PNG of a view (pixels read back from the framebuffer), the trace of the
// selected step as JSON, one head's attention weights as CSV. File names say what and
// when: mla-lab-<view>-step<N>.png, mla-lab-trace-step<N>.json,
// mla-lab-attention-l<L>-h<H>-step<N>.csv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/config.h"
#include "model/trace.h"

namespace mla::app {

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;  // top row first
    bool blank() const;         // every pixel the same
};

// Reads a rectangle of the current GL read buffer. x, y: top-left in pixels from the
// framebuffer's top-left; fb_height: the framebuffer's height. Rows are flipped so the
// image's top row is the screen's top row. Needs a current GL context.
Image read_pixels(int x, int y, int w, int h, int fb_height);

bool write_png(const std::string& path, const Image& img, std::string* error = nullptr);

// The trace as JSON: step, position, token, kind, options, backend, cost per layer, cache
// elements per layer, the model config, every tensor (name, layer, shape, data).
nlohmann::json trace_json(const Trace& t, const Config& c);

// One head's causal attention weights up to step `upto`: a header row "query \ key" with
// the key tokens, then one row per query token; cells above the diagonal are empty.
std::string head_csv(const std::vector<Trace>& traces, const std::vector<std::string>& labels, int64_t upto,
                     int layer, int head);

// "<dir>/mla-lab-<stem>.<ext>" ("." when dir is empty), with "-2", "-3", ... added when the
// file exists, so an export never overwrites an earlier one.
std::string export_path(const std::string& dir, const std::string& stem, const std::string& ext,
                        const std::string& prefix = "mla-lab-");

// Writes text to a file; false and *error on failure.
bool write_text(const std::string& path, const std::string& text, std::string* error = nullptr);

}  // namespace mla::app
