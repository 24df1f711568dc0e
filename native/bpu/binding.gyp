# The BPU backend addon. Built on its own: npx node-gyp rebuild --directory native/bpu
# On an RDK X5 (board headers and libdnn found, see detect-hb-dnn.cjs) it links the vendor libdnn; anywhere else
# it builds segstream's hb_dnn test double (native/testing) as build/Release/libdnn.so and links against that,
# found through an $ORIGIN rpath (no LD_LIBRARY_PATH needed). The same backend sources are compiled either way.
{
  "variables": {
    "hb_mode%": "<!(node detect-hb-dnn.cjs mode)",
    "hb_include%": "<!(node detect-hb-dnn.cjs include)",
    "hb_libdir%": "<!(node detect-hb-dnn.cjs libdir)"
  },
  "target_defaults": {
    "cflags!": [ "-fno-exceptions" ],
    "cflags_cc!": [ "-fno-exceptions", "-fno-rtti" ],
    "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter" ]
  },
  "targets": [
    {
      "target_name": "segstream_bpu",
      "sources": [
        "src/addon.cc",
        "src/bpu_error.cc",
        "src/bpu_model.cc",
        "src/tensor_io.cc",
        "src/tensor_layout.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(hb_include)"
      ],
      "defines": [ "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS" ],
      "conditions": [
        [ "hb_mode=='board'", {
          # libdnn pulls in further board libraries (cnn_intf, hbrt_bayes_aarch64, ...) that need not be on the
          # link line: allow their unresolved symbols. The vendor samples use -unresolved-symbols=
          # ignore-in-shared-libs for executables; on an addon that flag turns Node's N-API symbols (resolved only
          # when node loads the addon) into link errors, so it is not used here.
          "libraries": [
            "-L<(hb_libdir)",
            "-Wl,-rpath,<(hb_libdir)",
            "-ldnn", "-lpthread", "-lrt", "-ldl",
            "-Wl,--allow-shlib-undefined"
          ]
        }, {
          "dependencies": [ "dnn" ],
          "defines": [ "SEGSTREAM_HB_DNN_TEST_DOUBLE=1" ],
          "libraries": [ "-Wl,-rpath,'$$ORIGIN'" ]
        } ]
      ]
    }
  ],
  "conditions": [
    [ "hb_mode=='double'", {
      "targets": [
        {
          # The hb_dnn test double, built as libdnn.so so the addon links exactly as it would on a board.
          "target_name": "dnn",
          "type": "shared_library",
          "product_prefix": "lib",
          "sources": [
            "../testing/src/compute.cc",
            "../testing/src/double.cc",
            "../testing/src/json.cc",
            "../testing/src/model_desc.cc"
          ],
          "include_dirs": [ "../testing/include", "../testing/src" ],
          "cflags": [ "-fvisibility=hidden", "-pthread" ],
          "ldflags": [ "-pthread" ],
          "direct_dependent_settings": {
            "include_dirs": [ "../testing/include" ]
          }
        }
      ]
    } ]
  ]
}
