# Writes the systemd units of contrib/systemd/*.service.in into KEDGE_UNITS_OUT with the programs'
# directory KEDGE_BINDIR (and the shared [Service] settings of unit-common.in). Included at
# configure time (build/systemd/, for the tests) and again by `cmake --install`, so an install
# under another --prefix gets units naming that prefix.
# In: KEDGE_UNITS_SRC, KEDGE_UNITS_OUT, KEDGE_BINDIR. Out: KEDGE_UNIT_FILES (the written paths).
file(READ ${KEDGE_UNITS_SRC}/unit-common.in KEDGE_UNIT_COMMON)
string(STRIP "${KEDGE_UNIT_COMMON}" KEDGE_UNIT_COMMON)
file(GLOB _kedge_unit_ins ${KEDGE_UNITS_SRC}/*.service.in)
set(KEDGE_UNIT_FILES "")
foreach(_in IN LISTS _kedge_unit_ins)
  get_filename_component(_name ${_in} NAME)
  string(REGEX REPLACE "\\.in$" "" _name ${_name})
  configure_file(${_in} ${KEDGE_UNITS_OUT}/${_name} @ONLY)
  list(APPEND KEDGE_UNIT_FILES ${KEDGE_UNITS_OUT}/${_name})
endforeach()
