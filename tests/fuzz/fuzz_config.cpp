// libFuzzer target: the bytes are a config.json. load_config_file parses it; a config that
// passes validate(c, false) goes through the cache calculator (cache_report at a few context
// lengths and dtypes, the curves and their callouts), then validate(c, true) as the engine
// checks it before running. The calculator's own loader (load_calc_config) reads the same
// file. A config the engine runs must survive config_to_json -> config_from_json unchanged
// (what save_model writes, load_model reads back).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "curves/cache_calc.h"
#include "fuzz/fuzz_common.h"
#include "model/config.h"

namespace {

void calculator(const mla::Config& c) {
    mla::CacheRequest r;
    r.tokens = {1, 4096, 1000000};
    for (const char* dtype : {"bf16", "fp32", "fp8"}) {
        r.dtype = mla::parse_dtype(dtype);
        const mla::CacheReport rep = mla::cache_report("fuzz", c, r);
        fuzz::expect(rep.rows.size() == rep.layouts.size() * r.tokens.size(), "cache_report rows != layouts x tokens");
    }
    r.batch = 64;
    (void)mla::cache_report("fuzz", c, r);
    (void)mla::article_units_note("fuzz", c);
    mla::CurveRequest cr;
    cr.kinds = mla::all_cache_kinds();
    const std::vector<mla::CurveModel> models = {{"fuzz", c}};
    const std::vector<mla::CurveSeries> series = mla::curve_series(models, cr);
    (void)mla::curve_callouts(models, series);
}

// A config the engine runs is what save_model writes and load_model reads back.
void round_trip(const mla::Config& c) {
    const nlohmann::json j = mla::config_to_json(c);
    try {
        const mla::Config back = mla::config_from_json(j);
        mla::validate(back, true);
        fuzz::expect(mla::config_to_json(back) == j, "config_to_json -> config_from_json changes " + j.dump());
    } catch (const mla::InputError& e) {
        fuzz::expect(false, std::string("config_to_json of a valid config is refused: ") + e.what() + " " + j.dump());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::write_temp("config.json", data, size);
    try {
        const mla::Config c = mla::load_calc_config(path);  // load_config_file + validate(c, false)
        try {
            calculator(c);
        } catch (const mla::InputError& e) {
            // e.g. a cache past 2^64 - 1 bytes
            fuzz::refused(e);
        }
        bool runs = true;
        try {
            mla::validate(c, true);
        } catch (const mla::InputError&) {
            runs = false;
        }
        if (runs) round_trip(c);
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }
    return 0;
}
