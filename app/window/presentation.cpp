#include "window/presentation.h"

#include <algorithm>
#include <cmath>

namespace mla::app {

std::string presented_view(const UiSettings& ui, const std::string& focused_tile) {
    const auto& open = ui.open_views;
    const auto is_open = [&](const std::string& id) { return std::find(open.begin(), open.end(), id) != open.end(); };
    if (!ui.tiles) return ui.active_view;
    if (!focused_tile.empty() && is_open(focused_tile)) return focused_tile;
    return open.empty() ? ui.active_view : open.front();
}

Presentation::Key Presentation::key(bool f5, bool esc, bool esc_taken) const {
    if (f5) return on ? Key::Leave : Key::Enter;
    if (esc && on && !esc_taken) return Key::Leave;
    return Key::None;
}

void Presentation::enter(const UiSettings& ui, const std::string& focused_tile) {
    on = true;
    view = presented_view(ui, focused_tile);
}

void Presentation::leave() {
    on = false;
    view.clear();
}

float presentation_scale(float ui_scale, int window_height) {
    const float legible = static_cast<float>(std::max(window_height, 0)) / (16.0f * 40.0f);
    const float s = std::max(ui_scale * 1.25f, legible);
    return std::clamp(std::round(s * 20.0f) / 20.0f, 0.5f, 3.0f);
}

}  // namespace mla::app
