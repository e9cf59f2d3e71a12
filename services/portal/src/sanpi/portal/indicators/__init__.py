"""指标: conversion rates and target attainment against 序时进度, for the district and each park."""
