# What a system installation needs besides the programs (docs/packaging.md): systemd units,
# the kedge user (sysusers.d), its directories (tmpfiles.d), man pages and bash completion.
# Directories are absolute when given (debian/rules does), else under the install prefix.
set(KEDGE_SYSTEMD_UNITDIR "" CACHE PATH "systemd units (default PREFIX/lib/systemd/system)")
set(KEDGE_SYSUSERSDIR "" CACHE PATH "sysusers.d entries (default PREFIX/lib/sysusers.d)")
set(KEDGE_TMPFILESDIR "" CACHE PATH "tmpfiles.d entries (default PREFIX/lib/tmpfiles.d)")
set(KEDGE_BASHCOMPDIR "" CACHE PATH
    "bash completions (default PREFIX/share/bash-completion/completions)")
foreach(v SYSTEMD_UNITDIR:lib/systemd/system SYSUSERSDIR:lib/sysusers.d
          TMPFILESDIR:lib/tmpfiles.d BASHCOMPDIR:${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  string(REPLACE ":" ";" v ${v})
  list(GET v 0 var)
  list(GET v 1 default)
  if(NOT KEDGE_${var})
    set(KEDGE_${var}_DEST ${default})
  else()
    set(KEDGE_${var}_DEST ${KEDGE_${var}})
  endif()
endforeach()

# Units for the tests (build/systemd/), with the configured prefix.
set(KEDGE_UNITS_SRC ${PROJECT_SOURCE_DIR}/contrib/systemd)
set(KEDGE_UNITS_OUT ${CMAKE_BINARY_DIR}/systemd)
set(KEDGE_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
include(${PROJECT_SOURCE_DIR}/cmake/units.cmake)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${KEDGE_UNITS_SRC}/unit-common.in ${PROJECT_SOURCE_DIR}/cmake/units.cmake)
foreach(f IN LISTS _kedge_unit_ins)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
endforeach()
# ... and again at install time with the prefix of `cmake --install --prefix`.
install(CODE "
  set(KEDGE_UNITS_SRC \"${KEDGE_UNITS_SRC}\")
  set(KEDGE_UNITS_OUT \"${CMAKE_BINARY_DIR}/systemd-install\")
  set(KEDGE_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/units.cmake\")
  set(_dir \"${KEDGE_SYSTEMD_UNITDIR_DEST}\")
  if(NOT IS_ABSOLUTE \"\${_dir}\")
    set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
  endif()
  file(INSTALL DESTINATION \"\${_dir}\" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \${KEDGE_UNIT_FILES})
")
install(FILES ${KEDGE_UNITS_SRC}/kedge.sysusers DESTINATION ${KEDGE_SYSUSERSDIR_DEST}
        RENAME kedge.conf)
install(FILES ${KEDGE_UNITS_SRC}/kedge.tmpfiles DESTINATION ${KEDGE_TMPFILESDIR_DEST}
        RENAME kedge.conf)
install(FILES ${PROJECT_SOURCE_DIR}/contrib/bash-completion/kedge
        DESTINATION ${KEDGE_BASHCOMPDIR_DEST})
# bash-completion loads completions/NAME for command NAME: one script, a link per program.
install(CODE "
  set(_dir \"${KEDGE_BASHCOMPDIR_DEST}\")
  if(NOT IS_ABSOLUTE \"\${_dir}\")
    set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
  endif()
  foreach(p kedge-udmd kedge-ausfd kedge-nefd kedge-aanfd kedge-ecsd kedge-eec kedge-ue)
    message(STATUS \"Installing: \$ENV{DESTDIR}\${_dir}/\${p} -> kedge\")
    file(CREATE_LINK kedge \"\$ENV{DESTDIR}\${_dir}/\${p}\" SYMBOLIC)
  endforeach()
")

# Man pages: man/NAME.SECTION.scd -> build/man/NAME.SECTION (scdoc), one per program and
# kedge.yaml(5) for the configuration files.
option(KEDGE_MAN "Build and install the man pages (needs scdoc)" ON)
if(KEDGE_MAN)
  find_program(KEDGE_SCDOC scdoc)
  if(NOT KEDGE_SCDOC)
    message(FATAL_ERROR "scdoc not found: install it (scripts/deps.sh does) or -DKEDGE_MAN=OFF")
  endif()
  file(GLOB _kedge_man_srcs ${PROJECT_SOURCE_DIR}/man/*.scd)
  set(_kedge_man_pages "")
  foreach(src IN LISTS _kedge_man_srcs)
    get_filename_component(page ${src} NAME)
    string(REGEX REPLACE "\\.scd$" "" page ${page})
    string(REGEX MATCH "[0-9]$" section ${page})
    set(out ${CMAKE_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh -c "\"$0\" <\"$1\" >\"$2\"" ${KEDGE_SCDOC} ${src} ${out}
      DEPENDS ${src} VERBATIM COMMENT "scdoc ${page}")
    list(APPEND _kedge_man_pages ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${_kedge_man_pages})
endif()
