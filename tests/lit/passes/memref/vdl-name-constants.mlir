// RUN: vae-opt %s --vdl-name-constants | FileCheck %s

// Two constants of one shape, defined in the order bufferization happened
// to reach them: renamed by first use, defined in that order at the top;
// an unused constant comes after them; other globals keep their names.
// CHECK: memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[1, 2]>
// CHECK-NEXT: memref.global "private" constant @__constant_3xf32_0 : memref<3xf32> = dense<1.000000e+00>
// CHECK-NEXT: memref.global "private" constant @__constant_2xi32_1 : memref<2xi32> = dense<[7, 8]>
// CHECK-NEXT: memref.global "private" constant @__constant_4xi32_0 : memref<4xi32> = dense<0>
// CHECK-NEXT: memref.global "private" @table : memref<2xi32> = dense<5>
memref.global "private" constant @__constant_2xi32_0 : memref<2xi32> = dense<[7, 8]>
memref.global "private" constant @__constant_4xi32 : memref<4xi32> = dense<0>
memref.global "private" @table : memref<2xi32> = dense<5>
memref.global "private" constant @__constant_2xi32 : memref<2xi32> = dense<[1, 2]>
memref.global "private" constant @__constant_3xf32 : memref<3xf32> = dense<1.0>

// CHECK-LABEL: func.func @first
// CHECK: memref.get_global @__constant_2xi32_0
// CHECK: memref.get_global @__constant_3xf32_0
// CHECK: memref.get_global @table
func.func @first() -> (memref<2xi32>, memref<3xf32>, memref<2xi32>) {
  %a = memref.get_global @__constant_2xi32 : memref<2xi32>
  %b = memref.get_global @__constant_3xf32 : memref<3xf32>
  %c = memref.get_global @table : memref<2xi32>
  return %a, %b, %c : memref<2xi32>, memref<3xf32>, memref<2xi32>
}

// CHECK-LABEL: func.func @second
// CHECK: memref.get_global @__constant_2xi32_1
// CHECK: memref.get_global @__constant_2xi32_0
func.func @second() -> (memref<2xi32>, memref<2xi32>) {
  %a = memref.get_global @__constant_2xi32_0 : memref<2xi32>
  %b = memref.get_global @__constant_2xi32 : memref<2xi32>
  return %a, %b : memref<2xi32>, memref<2xi32>
}
