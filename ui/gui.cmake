# The desktop GUI: Dear ImGui 1.86 (Debian's libimgui-dev, with its GLFW and OpenGL3 backends),
# GLFW 3.3, OpenGL 3.3 core through a loader that glad generates here at build time.
# Included by the top CMakeLists when EPS_BUILD_GUI is ON.
pkg_check_modules(EPS_IMGUI REQUIRED IMPORTED_TARGET imgui stb glfw3)
find_package(OpenGL REQUIRED)
find_program(EPS_GLAD glad REQUIRED)

# glad: the GL 3.3 core loader, generated from the specification that ships with python3-glad
# (--reproducible: no network).
set(EPS_GLAD_DIR ${CMAKE_BINARY_DIR}/glad)
add_custom_command(
  OUTPUT ${EPS_GLAD_DIR}/src/gl.c ${EPS_GLAD_DIR}/include/glad/gl.h
  COMMAND ${EPS_GLAD} --reproducible --quiet --api gl:core=3.3 --out-path ${EPS_GLAD_DIR} c
  COMMENT "Generating the OpenGL 3.3 core loader with glad"
  VERBATIM)
add_library(eps_glad STATIC ${EPS_GLAD_DIR}/src/gl.c)
target_include_directories(eps_glad PUBLIC ${EPS_GLAD_DIR}/include)
target_link_libraries(eps_glad PUBLIC ${CMAKE_DL_LIBS})

file(GLOB EPS_GUI_SOURCES CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/ui/app*.cpp ${PROJECT_SOURCE_DIR}/ui/panel_*.cpp)
add_executable(epollscope ${EPS_GUI_SOURCES})
target_link_libraries(epollscope PRIVATE eps_view eps_sim eps_glad PkgConfig::EPS_IMGUI
  OpenGL::GL CLI11::CLI11 Threads::Threads)

# A small checker for the GUI tests: is a PNG non-blank, do two PNGs differ.
add_executable(epollscope-png-check ${PROJECT_SOURCE_DIR}/tests/gui/png_check.cpp)
target_link_libraries(epollscope-png-check PRIVATE PkgConfig::EPS_IMGUI)
# And a trace editor for them: one field of one event changed, the file sealed again, so the
# app is shown a corrupt trace whose checksum is valid.
add_executable(epollscope-trace-edit ${PROJECT_SOURCE_DIR}/tests/gui/trace_edit.cpp)
target_link_libraries(epollscope-trace-edit PRIVATE eps_sim)

# GUI tests under Xvfb (xvfb-run from the xvfb package, Mesa's software GL): each case of
# tests/gui/run_gui_tests.sh is one CTest test, labelled "gui".
find_program(EPS_XVFB_RUN xvfb-run)
if(EPS_XVFB_RUN)
  enable_testing()
  set(EPS_SHOTS ${CMAKE_BINARY_DIR}/gui-shots)
  foreach(case default lessons deterministic compare themes bad-file budget costs trace usage export)
    add_test(NAME gui.${case}
      COMMAND ${CMAKE_COMMAND} -E env EPS_APP=$<TARGET_FILE:epollscope>
              EPS_CLI=$<TARGET_FILE:epollscope-cli> EPS_CHECK=$<TARGET_FILE:epollscope-png-check>
              EPS_TRACE_EDIT=$<TARGET_FILE:epollscope-trace-edit>
              EPS_SHOTS=${EPS_SHOTS} EPS_SOURCE_DIR=${PROJECT_SOURCE_DIR}
              bash ${PROJECT_SOURCE_DIR}/tests/gui/run_gui_tests.sh ${case}
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(gui.${case} PROPERTIES TIMEOUT 900 LABELS gui)
  endforeach()
  # The frame-time benchmark: 1,000 sockets, ~1M events. Measured and printed, not asserted
  # (like the other benchmarks); run it with: ctest -L bench -V
  add_test(NAME gui.benchmark
    COMMAND ${EPS_XVFB_RUN} -a -s "-screen 0 1600x1000x24" $<TARGET_FILE:epollscope>
            --scenario ${PROJECT_SOURCE_DIR}/tests/gui/bench_1000.toml --benchmark 120)
  set_tests_properties(gui.benchmark PROPERTIES TIMEOUT 900 LABELS "gui;bench")
endif()
