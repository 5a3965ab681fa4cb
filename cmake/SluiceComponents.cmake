# sluice_add_component(<name>
#     [REQUIRES_COMPONENTS <component>...]   sluice components it builds on (core is implied)
#     [OPTIONAL_COMPONENTS <component>...]   linked when they were created
#     [DEPENDS <dep>...]                     required dependencies (see sluiceDependencies.cmake)
#     [OPTIONAL_DEPENDS <dep>=<MACRO>...])   linked when found, and <MACRO>=1 is defined
#
# Creates the header-only INTERFACE target sluice_<name> with the alias sluice::<name> when
# everything required was found, appends <name> to SLUICE_COMPONENTS in the caller's scope,
# records what the component needs for the generated sluiceConfig.cmake, and installs it in
# its own export set. One export set per component lets an installed sluiceConfig.cmake load
# only the components whose dependencies exist on the consumer's machine.
include_guard(GLOBAL)

function(sluice_add_component name)
    cmake_parse_arguments(PARSE_ARGV 1 arg ""
        "" "REQUIRES_COMPONENTS;OPTIONAL_COMPONENTS;DEPENDS;OPTIONAL_DEPENDS")

    set(components "")
    if(NOT name STREQUAL "core")
        set(components core)
    endif()
    foreach(component IN LISTS arg_REQUIRES_COMPONENTS)
        if(NOT TARGET sluice_${component})
            message(STATUS "sluice: component '${name}' disabled (needs component '${component}')")
            return()
        endif()
        list(APPEND components ${component})
    endforeach()
    foreach(component IN LISTS arg_OPTIONAL_COMPONENTS)
        if(TARGET sluice_${component})
            list(APPEND components ${component})
        endif()
    endforeach()

    set(deps "")
    foreach(dep IN LISTS arg_DEPENDS)
        sluice_find_dependency(${dep} found)
        if(NOT found)
            message(STATUS "sluice: component '${name}' disabled (dependency '${dep}' not found)")
            return()
        endif()
        list(APPEND deps ${dep})
    endforeach()
    set(definitions "")
    foreach(pair IN LISTS arg_OPTIONAL_DEPENDS)
        string(REPLACE "=" ";" pair "${pair}")
        list(GET pair 0 dep)
        list(GET pair 1 macro)
        sluice_find_dependency(${dep} found)
        if(found)
            list(APPEND deps ${dep})
            list(APPEND definitions ${macro}=1)
        endif()
    endforeach()

    add_library(sluice_${name} INTERFACE)
    add_library(sluice::${name} ALIAS sluice_${name})
    set_target_properties(sluice_${name} PROPERTIES EXPORT_NAME ${name})
    foreach(component IN LISTS components)
        target_link_libraries(sluice_${name} INTERFACE sluice_${component})
    endforeach()
    foreach(dep IN LISTS deps)
        if(dep STREQUAL "threads")
            target_link_libraries(sluice_${name} INTERFACE Threads::Threads)
        else()
            target_link_libraries(sluice_${name} INTERFACE sluice::deps::${dep})
        endif()
    endforeach()
    if(definitions)
        target_compile_definitions(sluice_${name} INTERFACE ${definitions})
    endif()

    list(REMOVE_ITEM components core)
    if(name STREQUAL "core")
        set(export_set sluiceTargets)
    else()
        # Not "sluiceTargets-<name>": the generated sluiceTargets.cmake globs that pattern for
        # its per-configuration files.
        set(export_set sluiceTargets_${name})
    endif()
    string(CONCAT info
        "set(_sluice_requires_${name} \"${components}\")\n"
        "set(_sluice_external_${name} \"${deps}\")\n"
        "set(_sluice_export_${name} \"${export_set}\")\n")
    set_property(GLOBAL APPEND_STRING PROPERTY SLUICE_CONFIG_COMPONENT_INFO "${info}")

    if(SLUICE_INSTALL)
        install(TARGETS sluice_${name} EXPORT ${export_set})
        install(EXPORT ${export_set}
            NAMESPACE sluice::
            DESTINATION "${SLUICE_INSTALL_CMAKEDIR}")
    endif()

    set(detail "")
    if(deps)
        set(detail " (${deps})")
    endif()
    message(STATUS "sluice: component '${name}' enabled${detail}")
    set(SLUICE_COMPONENTS ${SLUICE_COMPONENTS} ${name} PARENT_SCOPE)
endfunction()
