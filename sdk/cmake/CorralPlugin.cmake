# corral_add_plugin(<kind> <name> SOURCES ... [LIBRARIES ...] [OUTPUT_DIRECTORY dir])
# Builds libcorral_<kind>_<name>.so, a MODULE that corral-server loads at run time.
# --no-undefined catches missing symbols at link time rather than at load time. Never link
# jemalloc into a plugin: the host has it.
# Symbols keep default visibility on purpose: header-only libraries shared with the host
# (Boost.Asio above all) keep per-thread state in template statics, and a plugin must use
# the host's copy, not a hidden one of its own (a hidden copy crashed in Asio's scheduler
# when the host's threads ran the plugin's handlers). corral-server exports its symbols so
# the dynamic linker binds the plugin to them.
function(corral_add_plugin kind name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;TARGET" "SOURCES;LIBRARIES" ${ARGN})
  set(target corral_${kind}_${name})
  if(ARG_TARGET)
    set(target ${ARG_TARGET})
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME corral_${kind}_${name})
  if(TARGET Corral::sdk)
    target_link_libraries(${target} PRIVATE Corral::sdk ${ARG_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE corral_sdk ${ARG_LIBRARIES})
  endif()
  target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED CORRAL_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CORRAL_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
