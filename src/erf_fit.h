/* erf_fit.h - the rational approximation of erf used by the SIMD kernel sets' gelu():
   erf(x) ~ x P(x^2) / Q(x^2) on |x| <= ERF_CLAMP (beyond it erf rounds to +-1 in float), P and
   Q of degree 6. A fit made for this project (Loeb's linearised least squares with Lawson
   reweighting, in 40-digit arithmetic: 6e-10 before the coefficients were rounded to float;
   4e-7 absolute at worst as the kernels evaluate it in float, near |x| = 2.65). Evaluate
   Horner from the highest degree, P and Q alike, so every set gives the same bits. */
#ifndef MDSREC_ERF_FIT_H
#define MDSREC_ERF_FIT_H

#define ERF_CLAMP 3.92f

static const float ERF_P[7] = {1.128379225730896f, 0.16464689373970032f, 0.05059666186571121f,
                               0.0028555206954479218f, 0.0003000528668053448f, -7.794025691509887e-07f,
                               -4.8856307444111735e-08f};
static const float ERF_Q[7] = {1.0f, 0.47924792766571045f, 0.10458900034427643f, 0.013279356993734837f,
                               0.0010132362367585301f, 3.9206468500196934e-05f, -6.910174761287635e-07f};

#endif /* MDSREC_ERF_FIT_H */
