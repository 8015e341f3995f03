# Turns a file into a C++ header holding its bytes, so a source file that is
# not C++ (the status page's HTML) stays a real file in the repository and is
# still compiled into the binary. Run as a build step (see src/CMakeLists.txt):
#   cmake -DINPUT=page.html -DOUTPUT=page_html.h -DNAME=kStatusPageHtml -P embed_file.cmake
# The header defines `inline constexpr char NAME[]` (NUL-terminated) and
# `inline constexpr std::size_t NAME_size` (without the NUL).
foreach(var INPUT OUTPUT NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: -D${var}=... is required")
  endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# Twenty bytes a line keeps the header readable in a diff or a debugger.
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){20})" "\\1\n  " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${input_name} by cmake/embed_file.cmake: do not edit.\n"
  "#pragma once\n#include <cstddef>\n\n"
  "inline constexpr char ${NAME}[] = {\n  ${bytes}'\\0'};\n"
  "inline constexpr std::size_t ${NAME}_size = ${size};\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
