// Cache-size curves written as files, with no display: SVG (axes, ticks, legend, one <path>
// per series, title, callouts) and CSV (one row per context length, one column per series).
// The series come from curve_series() in cache_calc.h, which the window's plot view also uses.
#pragma once

#include <string>
#include <vector>

#include "curves/cache_calc.h"

namespace mla {

struct PlotOptions {
    bool log = true;         // log-log axes; false = linear axes from 0
    std::string title = "KV cache size vs context length";
    std::string subtitle;    // e.g. "bf16, batch 1; bytes in decimal units (1 GB = 10^9 B)"
    int width = 1000;        // pixels
    int height = 620;
};

// A standalone SVG document. Every series is one <path>; axes, ticks, legend swatches and
// callouts use <line> and <text>, so the number of <path> elements equals series.size().
std::string plot_svg(const std::vector<CurveSeries>& series, const std::vector<CurveCallout>& callouts,
                     const PlotOptions& o);

// "tokens,<label 1>,<label 2>,..." then one row per context length; values are bytes, exact.
std::string plot_csv(const std::vector<CurveSeries>& series);

}  // namespace mla
