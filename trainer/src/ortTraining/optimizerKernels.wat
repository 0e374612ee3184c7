;; The onnxruntime engine's optimiser kernels (./optimizerKernels.ts embeds this module compiled with
;; `wat2wasm optimizerKernels.wat`): Adam and the EMA over float32 arrays in the module's memory, two values per
;; SIMD step in float64, with the operations and their order of ../training/adam.ts AdamUpdateArrays and
;; ../training/ema.ts UpdateEmaArrays, so the results are the same bits (V8 computes those in float64 too).
(module
  (import "env" "memory" (memory 1))
  ;; Adam over n values at byte offsets p (parameters), g (gradient), m, v (moments); c = 1/sqrt(1 - beta2^t),
  ;; scale = lr/(1 - beta1^t), a1 = 1 - beta1, a2 = 1 - beta2.
  (func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
        (param $beta1 f64) (param $beta2 f64) (param $a1 f64) (param $a2 f64) (param $c f64) (param $eps f64) (param $scale f64)
    (local $end i32) (local $gv v128) (local $mi v128) (local $vi v128)
    (local $gs f64) (local $ms f64) (local $vs f64)
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $gv (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))))
        (local.set $mi (f64x2.add
          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m))) (f64x2.splat (local.get $beta1)))
          (f64x2.mul (local.get $gv) (f64x2.splat (local.get $a1)))))
        (local.set $vi (f64x2.add
          (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $v))) (f64x2.splat (local.get $beta2)))
          (f64x2.mul (f64x2.mul (local.get $gv) (local.get $gv)) (f64x2.splat (local.get $a2)))))
        (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $mi)))
        (v128.store64_lane align=4 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vi)))
        (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero
          (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p)))
            (f64x2.mul
              (f64x2.div (local.get $mi) (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vi)) (f64x2.splat (local.get $c))) (f64x2.splat (local.get $eps))))
              (f64x2.splat (local.get $scale))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (local.set $g (i32.add (local.get $g) (i32.const 8)))
        (local.set $m (i32.add (local.get $m) (i32.const 8)))
        (local.set $v (i32.add (local.get $v) (i32.const 8)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $gs (f64.promote_f32 (f32.load (local.get $g))))
        (local.set $ms (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $m))) (local.get $beta1)) (f64.mul (local.get $gs) (local.get $a1))))
        (local.set $vs (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $v))) (local.get $beta2)) (f64.mul (f64.mul (local.get $gs) (local.get $gs)) (local.get $a2))))
        (f32.store (local.get $m) (f32.demote_f64 (local.get $ms)))
        (f32.store (local.get $v) (f32.demote_f64 (local.get $vs)))
        (f32.store (local.get $p) (f32.demote_f64 (f64.sub (f64.promote_f32 (f32.load (local.get $p)))
          (f64.mul (f64.div (local.get $ms) (f64.add (f64.mul (f64.sqrt (local.get $vs)) (local.get $c)) (local.get $eps))) (local.get $scale))))))))
  ;; ema = source + beta (ema - source), float64 arithmetic as UpdateEmaArrays.
  (func (export "ema") (param $e i32) (param $s i32) (param $n i32) (param $beta f64)
    (local $end i32) (local $sv v128) (local $b v128) (local $ss f64)
    (local.set $b (f64x2.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $e) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $e) (local.get $end)))
        (local.set $sv (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $s))))
        (v128.store64_lane align=4 0 (local.get $e) (f32x4.demote_f64x2_zero
          (f64x2.add (local.get $sv) (f64x2.mul (local.get $b) (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $e))) (local.get $sv))))))
        (local.set $e (i32.add (local.get $e) (i32.const 8)))
        (local.set $s (i32.add (local.get $s) (i32.const 8)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $ss (f64.promote_f32 (f32.load (local.get $s))))
        (f32.store (local.get $e) (f32.demote_f64 (f64.add (local.get $ss) (f64.mul (local.get $beta) (f64.sub (f64.promote_f32 (f32.load (local.get $e))) (local.get $ss)))))))))
)
