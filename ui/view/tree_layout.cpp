#include "ui/view/tree_layout.h"

#include <algorithm>
#include <unordered_map>

namespace eps::view {

const TreeNodePos* TreeLayout::find_fd(std::int32_t fd) const {
  for (const auto& n : nodes)
    if (n.fd == fd) return &n;
  return nullptr;
}

TreeShape shape_of(const RbTree& t) {
  TreeShape out;
  if (t.empty()) return out;
  std::unordered_map<RbTree::NodeId, int> slot;
  for (RbTree::NodeId id = t.first(); id != RbTree::kNil; id = t.next(id)) {
    slot[id] = int(out.nodes.size());
    TreeShape::N n;
    n.key = t.node(id).key;
    n.red = t.node(id).red;
    out.nodes.push_back(n);
  }
  auto map = [&](RbTree::NodeId id) { return id == RbTree::kNil ? -1 : slot.at(id); };
  for (RbTree::NodeId id = t.first(); id != RbTree::kNil; id = t.next(id)) {
    TreeShape::N& n = out.nodes[std::size_t(slot[id])];
    n.left = map(t.node(id).left);
    n.right = map(t.node(id).right);
    n.parent = map(t.node(id).parent);
  }
  out.root = map(t.root());
  return out;
}

TreeShape with_leaf(const TreeShape& t, const RbKey& k) {
  TreeShape out = t;
  TreeShape::N leaf;
  leaf.key = k;
  leaf.red = true;
  const int id = int(out.nodes.size());
  int cur = out.root, parent = -1;
  bool left = false;
  while (cur != -1) {
    parent = cur;
    left = k < out.nodes[std::size_t(cur)].key;
    cur = left ? out.nodes[std::size_t(cur)].left : out.nodes[std::size_t(cur)].right;
  }
  leaf.parent = parent;
  out.nodes.push_back(leaf);
  if (parent == -1) out.root = id;
  else if (left) out.nodes[std::size_t(parent)].left = id;
  else out.nodes[std::size_t(parent)].right = id;
  return out;
}

namespace {
// Copies the tree after every rotation and recolouring the insert reports.
struct Recorder : RbTree::Observer {
  const RbTree* tree = nullptr;
  std::vector<TreeShape>* out = nullptr;
  void on_rotate(const RbKey&, bool) override { out->push_back(shape_of(*tree)); }
  void on_recolor(const RbKey&, bool) override { out->push_back(shape_of(*tree)); }
};
}  // namespace

std::vector<TreeShape> insert_story(const RbTree& before, const RbKey& k) {
  std::vector<TreeShape> out{with_leaf(shape_of(before), k)};
  if (before.contains(k)) return out;
  RbTree t = before;
  Recorder rec;
  rec.tree = &t;
  rec.out = &out;
  t.insert(k, &rec);
  return out;
}

TreeLayout layout_tree(const RbTree& t, int max_depth) { return layout_tree(shape_of(t), max_depth); }

TreeLayout layout_tree(const TreeShape& t, int max_depth) {
  TreeLayout out;
  if (t.root < 0 || max_depth <= 0) {
    out.hidden = int(t.size());
    return out;
  }
  // Iterative in-order walk with an explicit stack of (node, depth). A node below the cut is
  // not drawn; it is counted against its nearest drawn ancestor.
  struct Raw { int id, parent, depth; };
  std::vector<Raw> raw;
  std::vector<std::pair<int, int>> st;
  int cur = t.root, depth = 0;
  while (cur != -1 || !st.empty()) {
    while (cur != -1) {
      st.push_back({cur, depth});
      cur = t.nodes[std::size_t(cur)].left;
      depth++;
    }
    auto [id, d] = st.back();
    st.pop_back();
    raw.push_back({id, t.nodes[std::size_t(id)].parent, d});
    cur = t.nodes[std::size_t(id)].right;
    depth = d + 1;
  }
  std::unordered_map<int, int> index_of;
  for (const Raw& r : raw)
    if (r.depth < max_depth) {
      index_of[r.id] = int(out.nodes.size());
      TreeNodePos p;
      p.fd = t.nodes[std::size_t(r.id)].key.fd;
      p.red = t.nodes[std::size_t(r.id)].red;
      p.depth = r.depth;
      p.y = float(r.depth);
      out.nodes.push_back(p);
      out.depth = std::max(out.depth, r.depth + 1);
    }
  for (const Raw& r : raw) {
    if (r.depth < max_depth) {
      if (r.parent != -1) out.nodes[std::size_t(index_of[r.id])].parent = index_of[r.parent];
      continue;
    }
    out.hidden++;
    int a = r.id;
    for (int d = r.depth; d >= max_depth; d--) a = t.nodes[std::size_t(a)].parent;
    out.nodes[std::size_t(index_of[a])].hidden_below++;
  }
  const std::size_t n = out.nodes.size();
  for (std::size_t i = 0; i < n; i++) out.nodes[i].x = n == 1 ? 0.5f : float(i) / float(n - 1);
  return out;
}

TreeLayout lerp_layout(const TreeLayout& from, const TreeLayout& to, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  TreeLayout out = to;
  std::unordered_map<std::int32_t, const TreeNodePos*> before;
  for (const auto& n : from.nodes) before[n.fd] = &n;
  for (auto& n : out.nodes) {
    auto it = before.find(n.fd);
    if (it == before.end()) continue;
    n.x = it->second->x + (n.x - it->second->x) * t;
    n.y = it->second->y + (n.y - it->second->y) * t;
  }
  return out;
}

}  // namespace eps::view
