// Presentation mode (F5, the toolbar's Present button, `mla-lab --present`): full screen, no
// sidebar and no status line, large type, one view filling the window under a compact bar
// (Prev, Step, Play, Next, the step, "Presenting - Esc to leave"). Here are its state and
// rules, without ImGui or GLFW, so tests drive them; the window applies them (window.cpp).
#pragma once

#include <string>

#include "window/ui_settings.h"

namespace mla::app {

// The view a presentation shows: the shown tab; in tiles, the focused tile's view when it is
// open, else the first open view. With no view open, the remembered tab (every view exists).
std::string presented_view(const UiSettings& ui, const std::string& focused_tile);

struct Presentation {
    bool on = false;
    std::string view;              // the presented view, while on

    enum class Key { None, Enter, Leave };
    // F5 toggles; Esc leaves when on, unless something else holds Esc this frame (a text
    // field being typed in, an open popup: `esc_taken`). Returns what changed; the caller
    // applies it (enter() or leave(), full screen).
    Key key(bool f5, bool esc, bool esc_taken) const;
    void enter(const UiSettings& ui, const std::string& focused_tile);
    void leave();
};

// The UI scale while presenting: a quarter larger than the chosen one, and at least what
// gives about 40 lines of the 16-pixel font in the window's height; 0.5 .. 3, in steps of
// 0.05 so resizing the window does not rebuild the fonts at every pixel.
float presentation_scale(float ui_scale, int window_height);

}  // namespace mla::app
