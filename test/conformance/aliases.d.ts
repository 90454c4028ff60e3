// Express 4 and Koa 2 are installed under aliases so one run tests both majors; their API surface
// used here is the same as the current major's.
declare module 'express4' {
  import express from 'express'
  export default express
}
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
