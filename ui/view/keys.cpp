#include "ui/view/keys.h"

namespace eps::view {

std::optional<Action> action_for(Key k, bool ctrl, bool shift) {
  switch (k) {
    case Key::Space: return Action::TogglePlay;
    case Key::Left: return shift ? Action::StoryBack : Action::StepBack;
    case Key::Right: return shift ? Action::StoryForward : Action::StepForward;
    case Key::Home: return Action::ToStart;
    case Key::End: return Action::ToEnd;
    case Key::Plus: return ctrl ? Action::ScaleUp : Action::Faster;
    case Key::Minus: return ctrl ? Action::ScaleDown : Action::Slower;
    case Key::F11: return Action::FullScreen;
    case Key::S: if (ctrl) return Action::Screenshot; return std::nullopt;
    case Key::F1: return Action::Help;
  }
  return std::nullopt;
}

}  // namespace eps::view
