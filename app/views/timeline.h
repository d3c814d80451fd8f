// The transport (Step, Play at an adjustable speed, Reset) and the timeline of fed
// tokens: click a token, drag the slider or press Left/Right to scrub; every view then
// shows that step.
#pragma once

#include "views/view.h"

namespace mla::app {

struct Transport {
    bool playing = false;
    double carry = 0;              // fraction of a token owed by the play clock
    // Draws the buttons and the line about the selected step, which wraps before the last
    // `reserve_right` pixels of the line; speed is tokens per second (the UI setting).
    void draw(const Frame& f, Commands& cmds, float& speed, float reserve_right = 0);
    // The presentation's compact bar: "< Back" (one step back), "Step >", "Play"/"Pause",
    // in a row (no speed, no Reset: those stay in the normal toolbar).
    void draw_compact(const Frame& f, Commands& cmds);
    // Play clock: pushes the steps due after dt seconds.
    void tick(double dt, const Session& s, Commands& cmds, float speed);
};

// The line about the selected step: "step 3 of 16: fed 'a' (prompt) -> predicts 'b'"; ""
// before the first step.
std::string step_line(const Session& s, int64_t sel);

struct Timeline {
    int64_t scrolled_to = -2;      // the step the strip last scrolled to
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
