# Installation: the client library with the headers its public headers need,
# an exported CMake package (find_package(rustlog) -> rustlog::client), and
# the kafka-lite and rustlog programs.
#
#   cmake --install build/release --prefix /opt/rustlog
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The client package: common + protocol + client; no storage code or header.
set(_rustlog_libs rustlog_common rustlog_protocol rustlog_client)
foreach(lib ${_rustlog_libs})
  string(REPLACE "rustlog_" "" _short ${lib})
  set_target_properties(${lib} PROPERTIES EXPORT_NAME ${_short})
  add_library(rustlog::${_short} ALIAS ${lib})
  # Headers keep their layer folder: include/rustlog/client/client.h is
  # included as "client/client.h" (the INSTALL_INTERFACE of rustlog_library()).
  file(GLOB _headers ${CMAKE_SOURCE_DIR}/src/${_short}/*.h)
  install(FILES ${_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rustlog/${_short})
endforeach()

install(TARGETS ${_rustlog_libs} EXPORT rustlogTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rustlog)
install(TARGETS kafka-lite rustlog RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(_cfgdir ${CMAKE_INSTALL_LIBDIR}/cmake/rustlog)
install(EXPORT rustlogTargets NAMESPACE rustlog:: FILE rustlogTargets.cmake DESTINATION ${_cfgdir})
if(TARGET rustlog_client_kafka)
  # The Kafka implementation of Producer and Consumer (kafka:// addresses), in
  # an export set of its own: the package offers rustlog::client_kafka only
  # where librdkafka is installed, and rustlog::client never needs it. No
  # headers: a program links it and keeps using client/producer.h.
  set_target_properties(rustlog_client_kafka PROPERTIES EXPORT_NAME client_kafka)
  add_library(rustlog::client_kafka ALIAS rustlog_client_kafka)
  install(TARGETS rustlog_client_kafka EXPORT rustlogKafkaTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT rustlogKafkaTargets NAMESPACE rustlog:: FILE rustlogKafkaTargets.cmake DESTINATION ${_cfgdir})
endif()
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/rustlogConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/rustlogConfig.cmake INSTALL_DESTINATION ${_cfgdir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/rustlogConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/rustlogConfig.cmake ${CMAKE_BINARY_DIR}/rustlogConfigVersion.cmake
        DESTINATION ${_cfgdir})
