import 'reflect-metadata'
import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { type AuthConfig, type AuthContext, createAuth } from 'canonical-auth'
import { CanonicalAuthModule, CurrentUser, RequireAuth } from 'canonical-auth/nest'

@Controller()
class ProfileController {
  @Get('profile')
  @RequireAuth()
  profile(@CurrentUser() user: AuthContext) {
    return { userId: user.userId, email: user.user.email ?? null }
  }

  @Get('healthz')
  health() {
    return { ok: true }
  }
}

/** A NestJS service (Express platform): the same protection, the same answers. */
export async function createNestService(config: AuthConfig) {
  const auth = createAuth(config)
  @Module({ imports: [CanonicalAuthModule.forRoot({ auth })], controllers: [ProfileController] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] })
  return { app, auth }
}
