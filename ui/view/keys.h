// The keyboard map, as data: which key does what. Kept apart from GLFW so the bindings the
// README promises (Space, arrows, Shift+arrows, Home/End, +/-, Ctrl +/-, F11) are tested.
#pragma once

#include <optional>

namespace eps::view {

enum class Key { Space, Left, Right, Home, End, Plus, Minus, F11, S, F1 };
enum class Action {
  TogglePlay, StepBack, StepForward, StoryBack, StoryForward, ToStart, ToEnd, Faster, Slower,
  ScaleUp, ScaleDown, FullScreen, Screenshot, Help
};

std::optional<Action> action_for(Key k, bool ctrl, bool shift);

}  // namespace eps::view
