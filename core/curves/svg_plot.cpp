// SVG and CSV writers for the cache-size curves (see svg_plot.h).
#include "curves/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "base/check.h"

namespace mla {

namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a"};

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += ch;
        }
    }
    return out;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// One axis: maps a data value to a pixel between p0 (at lo) and p1 (at hi).
struct Axis {
    bool log = true;
    double lo = 1, hi = 10;   // data range
    double p0 = 0, p1 = 1;    // pixels
    double to_px(double v) const {
        const double f = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
        return p0 + f * (p1 - p0);
    }
    std::vector<double> ticks() const {
        std::vector<double> t;
        if (log) {
            for (double v = std::pow(10.0, std::ceil(std::log10(lo) - 1e-9)); v <= hi * (1 + 1e-9); v *= 10) t.push_back(v);
        } else {
            const double step = nice_step((hi - lo) / 5);
            for (double v = lo; v <= hi + step * 1e-9; v += step) t.push_back(v);
        }
        return t;
    }
    static double nice_step(double raw) {
        const double p = std::pow(10.0, std::floor(std::log10(raw)));
        const double f = raw / p;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    }
};

// Log axis: whole decades around [lo, hi]. Linear: 0 to a multiple of a nice step above hi.
Axis make_axis(bool log, double lo, double hi, double p0, double p1) {
    Axis a;
    a.log = log;
    a.p0 = p0;
    a.p1 = p1;
    if (log) {
        a.lo = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
        a.hi = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
        if (a.hi <= a.lo) a.hi = a.lo * 10;
    } else {
        a.lo = 0;
        if (!(hi > 0)) hi = 1;
        const double step = Axis::nice_step(hi / 5);
        a.hi = std::ceil(hi / step - 1e-9) * step;
    }
    return a;
}

// The pixel y of a series' drawn polyline at pixel x (the path is straight between its points).
double path_y_at(const CurveSeries& s, const Axis& ax, const Axis& ay, double x) {
    double px_prev = 0, py_prev = 0;
    bool have_prev = false;
    for (size_t i = 0; i < s.tokens.size(); ++i) {
        const double t = static_cast<double>(s.tokens[i]), b = static_cast<double>(s.bytes[i]);
        if (ax.log && (t <= 0 || b <= 0)) continue;
        const double px = ax.to_px(t), py = ay.to_px(b);
        if (have_prev && px >= x && px > px_prev) return py_prev + (py - py_prev) * (x - px_prev) / (px - px_prev);
        px_prev = px;
        py_prev = py;
        have_prev = true;
    }
    return py_prev;
}

}  // namespace

std::string plot_svg(const std::vector<CurveSeries>& series, const std::vector<CurveCallout>& callouts,
                     const PlotOptions& o) {
    MLA_CHECK(!series.empty());
    const double left = 90, top = 76, right = o.width - 330.0;
    const double footer = 22.0 * static_cast<double>(callouts.size());
    const double bottom = o.height - 70.0 - footer;
    MLA_CHECK(right > left + 100 && bottom > top + 100);

    double xmin = std::numeric_limits<double>::max(), xmax = 0, ymin = std::numeric_limits<double>::max(), ymax = 0;
    for (const CurveSeries& s : series) {
        MLA_CHECK(s.tokens.size() == s.bytes.size() && !s.tokens.empty());
        for (size_t i = 0; i < s.tokens.size(); ++i) {
            const double x = static_cast<double>(s.tokens[i]), y = static_cast<double>(s.bytes[i]);
            if (o.log && (x <= 0 || y <= 0)) continue;
            xmin = std::min(xmin, x);
            xmax = std::max(xmax, x);
            ymin = std::min(ymin, y);
            ymax = std::max(ymax, y);
        }
    }
    MLA_CHECK(xmax > 0 && ymax > 0);
    Axis ax = make_axis(o.log, xmin, xmax, left, right);
    if (o.log) {  // the x axis spans exactly the context lengths asked for; ticks at the decades inside
        ax.lo = xmin;
        ax.hi = xmax;
    }
    const Axis ay = make_axis(o.log, ymin, ymax, bottom, top);

    std::string svg;
    svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(o.width) + "\" height=\"" +
           std::to_string(o.height) + "\" viewBox=\"0 0 " + std::to_string(o.width) + " " + std::to_string(o.height) +
           "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
    svg += "<title>" + xml_escape(o.title) + "</title>\n";
    svg += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(o.width) + "\" height=\"" + std::to_string(o.height) +
           "\" fill=\"white\"/>\n";
    svg += "<text x=\"" + num(left) + "\" y=\"30\" font-size=\"18\" font-weight=\"bold\">" + xml_escape(o.title) + "</text>\n";
    if (!o.subtitle.empty())
        svg += "<text x=\"" + num(left) + "\" y=\"52\" fill=\"#444\">" + xml_escape(o.subtitle) + "</text>\n";

    // Axes, grid and ticks.
    svg += "<g id=\"axes\" stroke=\"#000\" stroke-width=\"1\">\n";
    for (double t : ax.ticks()) {
        const double x = ax.to_px(t);
        if (x < left - 0.5 || x > right + 0.5) continue;
        svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom) +
               "\" stroke=\"#ddd\"/>\n";
        svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(bottom) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom + 5) + "\"/>\n";
        svg += "<text x=\"" + num(x) + "\" y=\"" + num(bottom + 19) + "\" text-anchor=\"middle\" stroke=\"none\">" +
               xml_escape(format_tokens_short(t)) + "</text>\n";
    }
    for (double t : ay.ticks()) {
        const double y = ay.to_px(t);
        svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right) + "\" y2=\"" + num(y) +
               "\" stroke=\"#ddd\"/>\n";
        svg += "<line x1=\"" + num(left - 5) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left) + "\" y2=\"" + num(y) + "\"/>\n";
        svg += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\" stroke=\"none\">" +
               xml_escape(format_bytes_short(t)) + "</text>\n";
    }
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(bottom) + "\" x2=\"" + num(right) + "\" y2=\"" + num(bottom) + "\"/>\n";
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(bottom) + "\"/>\n";
    svg += "</g>\n";
    svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(bottom + 42) +
           "\" text-anchor=\"middle\">context length (tokens" + std::string(o.log ? ", log scale" : "") + ")</text>\n";
    svg += "<text transform=\"translate(20 " + num((top + bottom) / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">KV cache (bytes" + std::string(o.log ? ", log scale" : "") +
           ")</text>\n";

    // One path per series.
    svg += "<g id=\"series\" fill=\"none\" stroke-width=\"2\">\n";
    for (size_t k = 0; k < series.size(); ++k) {
        const CurveSeries& s = series[k];
        std::string d;
        for (size_t i = 0; i < s.tokens.size(); ++i) {
            const double x = static_cast<double>(s.tokens[i]), y = static_cast<double>(s.bytes[i]);
            if (o.log && (x <= 0 || y <= 0)) continue;
            d += (d.empty() ? "M" : " L") + num(ax.to_px(x)) + "," + num(ay.to_px(y));
        }
        svg += "<path d=\"" + d + "\" stroke=\"" + kPalette[k % 12] + "\"" +
               (s.layout.own ? "" : " stroke-dasharray=\"7 4\"") + "><title>" + xml_escape(s.label) + "</title></path>\n";
    }
    svg += "</g>\n";

    // Legend, to the right of the plot.
    svg += "<g id=\"legend\">\n";
    for (size_t k = 0; k < series.size(); ++k) {
        const double y = top + 8 + 20.0 * static_cast<double>(k);
        svg += "<line x1=\"" + num(right + 20) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right + 50) + "\" y2=\"" + num(y) +
               "\" stroke=\"" + kPalette[k % 12] + "\" stroke-width=\"2\"" +
               (series[k].layout.own ? "" : " stroke-dasharray=\"7 4\"") + "/>\n";
        svg += "<text x=\"" + num(right + 58) + "\" y=\"" + num(y + 4) + "\">" + xml_escape(series[k].label) + "</text>\n";
    }
    const double note_y = top + 8 + 20.0 * static_cast<double>(series.size()) + 6;
    svg += "<text x=\"" + num(right + 20) + "\" y=\"" + num(note_y) +
           "\" fill=\"#555\" font-size=\"11\">solid: the model's own attention</text>\n";
    if (std::any_of(series.begin(), series.end(), [](const CurveSeries& s) { return !s.layout.own; }))
        svg += "<text x=\"" + num(right + 20) + "\" y=\"" + num(note_y + 15) +
               "\" fill=\"#555\" font-size=\"11\">dashed: the same model with another kind</text>\n";
    svg += "</g>\n";

    // Callouts: a bracket between the MHA and MLA curves at the right end, or a label by the MLA curve; the
    // full sentence under the plot.
    svg += "<g id=\"callouts\" font-weight=\"bold\">\n";
    for (size_t i = 0; i < callouts.size(); ++i) {
        const CurveCallout& c = callouts[i];
        const CurveSeries& mla = series[static_cast<size_t>(c.mla_series)];
        const double x = right - 14.0 * static_cast<double>(i + 1);
        const double y_mla = path_y_at(mla, ax, ay, x);
        const std::string colour = kPalette[static_cast<size_t>(c.mla_series) % 12];
        if (c.mha_series >= 0) {
            const double y_mha = path_y_at(series[static_cast<size_t>(c.mha_series)], ax, ay, x);
            svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(y_mha) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y_mla) +
                   "\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>\n";
            svg += "<text x=\"" + num(x - 6) + "\" y=\"" + num((y_mha + y_mla) / 2 + 5) + "\" text-anchor=\"end\">" +
                   xml_escape(format_ratio(c.ratio)) + "</text>\n";
        } else {
            svg += "<text x=\"" + num(x) + "\" y=\"" + num(y_mla - 10) + "\" text-anchor=\"end\" fill=\"" + colour + "\">" +
                   xml_escape(c.model + " MLA: " + format_ratio(c.ratio) + " less than MHA") + "</text>\n";
        }
        svg += "<text x=\"" + num(left) + "\" y=\"" + num(bottom + 64 + 22.0 * static_cast<double>(i)) + "\">" +
               xml_escape(c.text) + "</text>\n";
    }
    svg += "</g>\n";
    svg += "</svg>\n";
    return svg;
}

std::string plot_csv(const std::vector<CurveSeries>& series) {
    MLA_CHECK(!series.empty());
    auto field = [](const std::string& s) {
        if (s.find_first_of(",\"\n") == std::string::npos) return s;
        std::string q = "\"";
        for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return q + "\"";
    };
    std::string csv = "tokens";
    for (const CurveSeries& s : series) {
        csv += ',';
        csv += field(s.label + " [bytes]");
    }
    csv += "\n";
    const std::vector<uint64_t>& tokens = series.front().tokens;
    for (const CurveSeries& s : series) MLA_CHECK(s.tokens == tokens);
    for (size_t i = 0; i < tokens.size(); ++i) {
        csv += std::to_string(tokens[i]);
        for (const CurveSeries& s : series) {
            csv += ',';
            csv += std::to_string(s.bytes[i]);
        }
        csv += "\n";
    }
    return csv;
}

}  // namespace mla
