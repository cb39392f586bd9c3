// Checks screenshots for the GUI tests.
//   epollscope-png-check nonblank A.png        exit 0 if A has real content
//   epollscope-png-check differ A.png B.png    exit 0 if A and B differ in enough pixels
//   epollscope-png-check same A.png B.png      exit 0 if A and B are identical
// "Non-blank": at least 16 distinct colours and at least 2% of the pixels away from the most
// common colour (a window that only cleared its background fails both).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <stb_image.h>

namespace {

struct Image {
  int w = 0, h = 0;
  unsigned char* px = nullptr;
  ~Image() { stbi_image_free(px); }
};

bool load(const char* path, Image& img) {
  int n = 0;
  img.px = stbi_load(path, &img.w, &img.h, &n, 3);
  if (!img.px) std::fprintf(stderr, "png-check: cannot read %s: %s\n", path, stbi_failure_reason());
  return img.px != nullptr;
}

int nonblank(const char* path) {
  Image img;
  if (!load(path, img)) return 1;
  std::map<unsigned, long> count;
  const long n = long(img.w) * img.h;
  for (long i = 0; i < n; i++) {
    const unsigned char* p = img.px + i * 3;
    count[unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2]]++;
  }
  long top = 0;
  for (const auto& [c, k] : count) top = k > top ? k : top;
  const double off = 1.0 - double(top) / double(n);
  std::printf("%s: %dx%d, %zu colours, %.1f%% off the background\n", path, img.w, img.h, count.size(), 100 * off);
  return count.size() >= 16 && off >= 0.02 ? 0 : 1;
}

int differ(const char* a, const char* b, bool want_same) {
  Image x, y;
  if (!load(a, x) || !load(b, y)) return 1;
  if (x.w != y.w || x.h != y.h) {
    std::printf("sizes differ: %dx%d vs %dx%d\n", x.w, x.h, y.w, y.h);
    return want_same ? 1 : 0;
  }
  const long n = long(x.w) * x.h;
  long diff = 0;
  for (long i = 0; i < n; i++) diff += std::memcmp(x.px + i * 3, y.px + i * 3, 3) != 0;
  std::printf("%s vs %s: %ld of %ld pixels differ (%.2f%%)\n", a, b, diff, n, 100.0 * double(diff) / double(n));
  if (want_same) return diff == 0 ? 0 : 1;
  return double(diff) / double(n) >= 0.001 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "nonblank") == 0) return nonblank(argv[2]);
  if (argc == 4 && std::strcmp(argv[1], "differ") == 0) return differ(argv[2], argv[3], false);
  if (argc == 4 && std::strcmp(argv[1], "same") == 0) return differ(argv[2], argv[3], true);
  std::fprintf(stderr, "usage: %s nonblank A.png | differ A.png B.png | same A.png B.png\n", argv[0]);
  return 2;
}
