// RUN: vae-opt %s --vdl-fresh-results --verify-diagnostics

// Entry points return identity-layout buffers (one-shot-bufferize's function
// boundary option); a returned view with an offset cannot get a fresh buffer
// of the same type.
func.func @offset_view(%x: memref<8xf32>) -> memref<4xf32, strided<[1], offset: 2>> {
  %v = memref.subview %x[2] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: 2>>
  // expected-error @below {{vdl-fresh-results: a returned argument or repeated result of type 'memref<4xf32, strided<[1], offset: 2>>' cannot be copied into a static, identity-layout buffer}}
  return %v : memref<4xf32, strided<[1], offset: 2>>
}
