{
  "variables": {
    "segk_scalar%": "0"
  },
  "targets": [
    {
      "target_name": "segstream_kernels",
      "sources": [
        "<!@(node -e \"const fs=require('fs');console.log(fs.readdirSync('native/kernels').filter(f=>f.endsWith('.cc')).sort().map(f=>'native/kernels/'+f).join(' '))\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/kernels"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-O2"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fexceptions",
        "-ffp-contract=off"
      ],
      "conditions": [
        [
          "segk_scalar==1",
          {
            "defines": [
              "SEGK_FORCE_SCALAR"
            ]
          }
        ]
      ]
    }
  ]
}
